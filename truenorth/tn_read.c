/* tn_read.c — (being written). */
#include "tn_model.h"
