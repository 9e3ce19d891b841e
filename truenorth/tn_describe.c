/* tn_describe.c — (being written). */
#include "tn_model.h"
