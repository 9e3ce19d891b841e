/* tn_write.c — (being written). */
#include "tn_model.h"
