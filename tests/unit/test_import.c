/* test_import.c — unit tests (being written). */
#include "harness.h"

static void test_placeholder(void) { CU_PASS("placeholder"); }

static CU_TestInfo tests[] = {{"placeholder", test_placeholder}, CU_TEST_INFO_NULL};
SNNC_TEST_MAIN("import")
