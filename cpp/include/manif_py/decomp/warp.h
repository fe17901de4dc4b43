// Bilinear image warps with zero padding, the sampling of torch's grid_sample
// (align_corners=False): output pixel centres in normalised coordinates
// ((2j+1)/W_out - 1, (2i+1)/H_out - 1) are mapped by an affine (2x3) or projective
// (3x3) transform to normalised input coordinates and read bilinearly; taps
// outside the image read zero.
#pragma once

#include <cmath>
#include <cstdint>

namespace manif_py::decomp {

struct ImageShape {
  int64_t channels, height, width;
};

/// Output pixels [p_begin, p_end) of one image (p = row * W_out + col), all
/// channels. T is 3x3 row-major; projective divides by the third coordinate
/// (a point with a zero or non-finite third coordinate reads zero).
template <class S>
inline void warp_pixels(const S* img, const ImageShape& in, S* out, int64_t out_h, int64_t out_w, const double* T,
                        bool projective, int64_t p_begin, int64_t p_end) {
  const int64_t H = in.height, W = in.width, C = in.channels;
  const int64_t plane_in = H * W, plane_out = out_h * out_w;
  for (int64_t p = p_begin; p < p_end; ++p) {
    const int64_t oi = p / out_w, oj = p % out_w;
    const double x = (2.0 * double(oj) + 1.0) / double(out_w) - 1.0;
    const double y = (2.0 * double(oi) + 1.0) / double(out_h) - 1.0;
    double u = T[0] * x + T[1] * y + T[2];
    double v = T[3] * x + T[4] * y + T[5];
    bool valid = true;
    if (projective) {
      const double w = T[6] * x + T[7] * y + T[8];
      valid = w != 0.0;
      u /= w;
      v /= w;
    }
    // Unnormalise (align_corners=False): -1 is the left edge of pixel 0.
    const double ix = ((u + 1.0) * double(W) - 1.0) * 0.5;
    const double iy = ((v + 1.0) * double(H) - 1.0) * 0.5;
    valid = valid && std::isfinite(ix) && std::isfinite(iy) && ix > -2.0 && iy > -2.0 && ix < double(W) + 1.0 &&
            iy < double(H) + 1.0;
    if (!valid) {
      for (int64_t ch = 0; ch < C; ++ch) out[ch * plane_out + p] = S(0);
      continue;
    }
    const double fx = std::floor(ix), fy = std::floor(iy);
    const int64_t x0 = int64_t(fx), y0 = int64_t(fy);
    const double tx = ix - fx, ty = iy - fy;
    // Weights and offsets of the four taps; taps outside the image get weight 0.
    double w[4] = {(1.0 - tx) * (1.0 - ty), tx * (1.0 - ty), (1.0 - tx) * ty, tx * ty};
    int64_t off[4];
    const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
    for (int t = 0; t < 4; ++t) {
      const bool inside = xs[t] >= 0 && xs[t] < W && ys[t] >= 0 && ys[t] < H;
      off[t] = inside ? ys[t] * W + xs[t] : 0;
      if (!inside) w[t] = 0.0;
    }
    for (int64_t ch = 0; ch < C; ++ch) {
      const S* src = img + ch * plane_in;
      const double val = w[0] * double(src[off[0]]) + w[1] * double(src[off[1]]) + w[2] * double(src[off[2]]) +
                         w[3] * double(src[off[3]]);
      out[ch * plane_out + p] = S(val);
    }
  }
}

}  // namespace manif_py::decomp
