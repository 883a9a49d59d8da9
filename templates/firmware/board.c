/* The board's register-level set-up from its board file (clocks, pin multiplexing), run before the UART's. */
#include "board.h"

struct board_step {
    uint32_t reg;
    uint32_t clear;
    uint32_t set;
    /* Nonzero: wait until these bits of reg are set, instead of writing. */
    uint32_t wait;
};

static const struct board_step steps[] = {
    BOARD_SETUP_STEPS
    {0u, 0u, 0u, 0u},
};

void board_init(void) {
    const struct board_step *step;
    for (step = steps; step->reg; step++) {
        volatile uint32_t *reg = (volatile uint32_t *)(uintptr_t)step->reg;
        if (step->wait) {
            while ((*reg & step->wait) != step->wait) {
            }
        } else {
            *reg = (*reg & ~step->clear) | step->set;
        }
    }
}
