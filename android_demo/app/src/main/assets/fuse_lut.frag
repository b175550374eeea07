#version 300 es
// edgemef: fuse a bracket and apply the LUT in one pass, per pixel (the contract's postprocessing):
//   fused = clamp(sum_k weights[k] * frame_k, 0, 1)      frames in [0, 1], darkest first
//   out   = clamp(trilinear(lut, fused), 0, 1)           quantised by the RGBA8 target (round to nearest)
// The LUT is a 3D texture in the canonical layout as it is (width = red, height = green, depth = blue, RGB,
// linear filtering, clamp-to-edge). The contract's grid coordinate v * (S - 1) is texel centre
// v * (S - 1) / S + 0.5 / S in texture coordinates.
precision highp float;
precision highp sampler3D;

uniform sampler2D u_frame0;
uniform sampler2D u_frame1;
uniform sampler2D u_frame2;
uniform sampler2D u_frame3;
uniform int u_count;           // 2 to 4 exposures
uniform float u_weights[4];    // one fusion weight per exposure, darkest first
uniform sampler3D u_lut;
uniform float u_size;          // the LUT's side S

in vec2 v_uv;
out vec4 o_color;

void main() {
    vec3 fused = u_weights[0] * texture(u_frame0, v_uv).rgb + u_weights[1] * texture(u_frame1, v_uv).rgb;
    if (u_count > 2) {
        fused += u_weights[2] * texture(u_frame2, v_uv).rgb;
    }
    if (u_count > 3) {
        fused += u_weights[3] * texture(u_frame3, v_uv).rgb;
    }
    fused = clamp(fused, 0.0, 1.0);
    vec3 coordinate = fused * ((u_size - 1.0) / u_size) + 0.5 / u_size;
    o_color = vec4(clamp(texture(u_lut, coordinate).rgb, 0.0, 1.0), 1.0);
}
