#version 300 es
// edgemef: fuse a bracket and apply the LUT in one pass, per pixel (the contract's postprocessing):
//   fused = clamp(sum_k w_k(x, y) * frame_k, 0, 1)       frames in [0, 1], darkest first
//   out   = clamp(trilinear(lut, fused), 0, 1)           quantised by the RGBA8 target (round to nearest)
// The LUT is a 3D texture in the canonical layout as it is (width = red, height = green, depth = blue, RGB,
// linear filtering, clamp-to-edge). The contract's grid coordinate v * (S - 1) is texel centre
// v * (S - 1) / S + 0.5 / S in texture coordinates. The weights w_k are an RGBA texture (exposure k in
// channel k), one texel per weight-map cell (1 x 1: one weight per exposure), linear filtering and
// clamp-to-edge; sampled at the pixel's own texture coordinate, that is the contract's weight-map rule
// (half-pixel centres, u = (x + 0.5) * Gw / W - 0.5, clamped to the edge cells).
precision highp float;
precision highp sampler3D;

uniform sampler2D u_frame0;
uniform sampler2D u_frame1;
uniform sampler2D u_frame2;
uniform sampler2D u_frame3;
uniform int u_count;           // 2 to 4 exposures
uniform sampler2D u_weight_maps; // the fusion weights, exposure k in channel k, darkest first
uniform sampler3D u_lut;
uniform float u_size;          // the LUT's side S

in vec2 v_uv;
out vec4 o_color;

void main() {
    vec4 w = texture(u_weight_maps, v_uv);
    vec3 fused = w.r * texture(u_frame0, v_uv).rgb + w.g * texture(u_frame1, v_uv).rgb;
    if (u_count > 2) {
        fused += w.b * texture(u_frame2, v_uv).rgb;
    }
    if (u_count > 3) {
        fused += w.a * texture(u_frame3, v_uv).rgb;
    }
    fused = clamp(fused, 0.0, 1.0);
    vec3 coordinate = fused * ((u_size - 1.0) / u_size) + 0.5 / u_size;
    o_color = vec4(clamp(texture(u_lut, coordinate).rgb, 0.0, 1.0), 1.0);
}
