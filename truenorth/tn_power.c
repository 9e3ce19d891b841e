/* tn_power.c — (being written). */
#include "tn_model.h"
