/* One one-byte test input for the harness-baseline model. */
#include "tinyhil_model.h"

const uint32_t th_data_count = 1;
const uint8_t th_data_inputs[] = {0};
