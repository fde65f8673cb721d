/* STM32 GPIO (the same register layout on F4 and L4): put a pin on an alternate function. */
#ifndef TH_STM32_GPIO_H
#define TH_STM32_GPIO_H

#include "cortex_m.h"

#define GPIO_MODER(base) TH_REG((base) + 0x00u)
#define GPIO_OSPEEDR(base) TH_REG((base) + 0x08u)
#define GPIO_PUPDR(base) TH_REG((base) + 0x0Cu)
#define GPIO_AFR(base, pin) TH_REG((base) + 0x20u + 4u * ((pin) >> 3))

/* pull: 0 none, 1 up */
static inline void th_stm32_pin_af(uint32_t base, uint32_t pin, uint32_t af, uint32_t pull) {
  const uint32_t shift2 = 2u * pin, shift4 = 4u * (pin & 7u);
  GPIO_AFR(base, pin) = (GPIO_AFR(base, pin) & ~(0xFu << shift4)) | (af << shift4);
  GPIO_OSPEEDR(base) |= 3u << shift2;
  GPIO_PUPDR(base) = (GPIO_PUPDR(base) & ~(3u << shift2)) | (pull << shift2);
  GPIO_MODER(base) = (GPIO_MODER(base) & ~(3u << shift2)) | (2u << shift2); /* alternate function */
}

#endif
