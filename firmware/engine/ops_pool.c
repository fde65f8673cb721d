/* MAX_POOL_2D and AVERAGE_POOL_2D (int8), as TFLM's reference pooling: windows clipped to the
 * input, the average divides by the number of in-bounds taps, rounding half away from zero. */
#include "th_fixedpoint.h"
#include "th_ops.h"

typedef struct {
  int32_t y0, y1, x0, x1;
} window;

static window clip_window(const th_pool_params *p, int32_t oy, int32_t ox) {
  const int32_t iy = oy * p->stride_h - p->pad_top;
  const int32_t ix = ox * p->stride_w - p->pad_left;
  window w;
  w.y0 = iy < 0 ? 0 : iy;
  w.x0 = ix < 0 ? 0 : ix;
  w.y1 = iy + p->filter_h < p->in_h ? iy + p->filter_h : p->in_h;
  w.x1 = ix + p->filter_w < p->in_w ? ix + p->filter_w : p->in_w;
  return w;
}

void th_maxpool_s8(const th_pool_params *p) {
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = p->input + b * p->in_h * p->in_w * p->channels;
    int8_t *out = p->output + b * p->out_h * p->out_w * p->channels;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      for (int32_t ox = 0; ox < p->out_w; ++ox) {
        const window w = clip_window(p, oy, ox);
        for (int32_t c = 0; c < p->channels; ++c) {
          int32_t m = -128;
          for (int32_t y = w.y0; y < w.y1; ++y)
            for (int32_t x = w.x0; x < w.x1; ++x) {
              const int32_t v = in[(y * p->in_w + x) * p->channels + c];
              if (v > m) m = v;
            }
          out[(oy * p->out_w + ox) * p->channels + c] = (int8_t)th_clamp(m, p->act_min, p->act_max);
        }
      }
    }
  }
}

void th_avgpool_s8(const th_pool_params *p) {
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = p->input + b * p->in_h * p->in_w * p->channels;
    int8_t *out = p->output + b * p->out_h * p->out_w * p->channels;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      for (int32_t ox = 0; ox < p->out_w; ++ox) {
        const window w = clip_window(p, oy, ox);
        const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
        for (int32_t c = 0; c < p->channels; ++c) {
          int32_t acc = 0;
          for (int32_t y = w.y0; y < w.y1; ++y)
            for (int32_t x = w.x0; x < w.x1; ++x) acc += in[(y * p->in_w + x) * p->channels + c];
          if (count > 0) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          out[(oy * p->out_w + ox) * p->channels + c] = (int8_t)th_clamp(acc, p->act_min, p->act_max);
        }
      }
    }
  }
}
