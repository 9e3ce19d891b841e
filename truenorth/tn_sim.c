/* tn_sim.c — (being written). */
#include "tn_model.h"
