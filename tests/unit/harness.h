/* harness.h — the few lines every CUnit test program shares: register the
 * suite's tests, run them verbosely, exit non-zero when any fails.
 *
 * A test file defines `static CU_TestInfo tests[] = {{"name", fn}, ...,
 * CU_TEST_INFO_NULL};` and ends with SNNC_TEST_MAIN("suite name"). */
#ifndef SNNC_TEST_HARNESS_H
#define SNNC_TEST_HARNESS_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <math.h>

#define SNNC_TEST_MAIN(suite_name)                                                                 \
    int main(void)                                                                                 \
    {                                                                                              \
        if (CU_initialize_registry() != CUE_SUCCESS)                                               \
            return 2;                                                                              \
        CU_SuiteInfo suites[] = {{suite_name, NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL}; \
        if (CU_register_suites(suites) != CUE_SUCCESS)                                             \
            return 2;                                                                              \
        CU_basic_set_mode(CU_BRM_VERBOSE);                                                         \
        CU_basic_run_tests();                                                                      \
        unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();          \
        CU_cleanup_registry();                                                                     \
        return failed ? 1 : 0;                                                                     \
    }

/* Assert |a - b| <= atol + rtol * |b| with a message on failure. */
#define SNNC_ASSERT_CLOSE(a, b, rtol, atol) \
    CU_ASSERT(fabs((double)(a) - (double)(b)) <= (atol) + (rtol) * fabs((double)(b)))

#endif
