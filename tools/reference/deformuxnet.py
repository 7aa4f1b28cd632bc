"""PyTorch reference of the DeformUX-Net in ../../shared/MODEL.md (Debian python3-torch 1.13, CPU).

It is the independent oracle the TypeScript engine is tested against: every layer follows MODEL.md
literally, in PyTorch layouts and with PyTorch state-dict names (section 7), and the depthwise
deformable convolution is built from `grid_sample` rather than from our own kernels.

Variants used only to prove that the engine tests can fail (`variant=`):
  "swap_hw"     offsets read with the H and W axis components exchanged (a transposed axis),
  "group_rev"   channel c sampled with the offsets of group G-1-g (a wrong group mapping),
  "border"      out-of-volume corners take the nearest border voxel instead of 0 (a wrong border rule).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "paper": dict(in_channels=1, out_channels=3, feature_sizes=[48, 96, 192, 384], depths=[2, 2, 2, 2],
                  hidden_size=768, kernel_size=3, offset_kernel_size=5, deform_groups=1),
    "lite": dict(in_channels=1, out_channels=3, feature_sizes=[16, 32, 64, 128], depths=[2, 2, 2, 2],
                 hidden_size=256, kernel_size=3, offset_kernel_size=5, deform_groups=1),
}


def ddc(x, offset, weight, bias, groups, variant=None):
    """Depthwise deformable conv (MODEL.md section 1) from grid_sample, one call per kernel point.

    The input is zero-padded by one voxel so that grid_sample's align_corners normalisation never
    divides by a size-1 axis; padded voxels are zero, which is exactly the "outside corners give 0" rule.
    """
    n, c, d, h, w = x.shape
    k = weight.shape[-1]
    kk = k ** 3
    r = k // 2
    cg = c // groups
    mode = "border" if variant == "border" else "zeros"
    xp = x if mode == "border" else F.pad(x, (1, 1, 1, 1, 1, 1))
    shift = 0 if mode == "border" else 1
    pd, ph, pw = xp.shape[2:]
    xg = xp.reshape(n * groups, cg, pd, ph, pw)
    off = offset.reshape(n, groups, kk, 3, d, h, w)
    if variant == "group_rev":
        off = off.flip(1)
    if variant == "swap_hw":
        off = off[:, :, :, [0, 2, 1]]
    dt, ht, wt = x.dtype, x.dtype, x.dtype
    base_d = torch.arange(d, dtype=dt).view(1, 1, d, 1, 1)
    base_h = torch.arange(h, dtype=ht).view(1, 1, 1, h, 1)
    base_w = torch.arange(w, dtype=wt).view(1, 1, 1, 1, w)
    y = torch.zeros_like(x)
    for i in range(k):
        for j in range(k):
            for l in range(k):
                p = (i * k + j) * k + l
                pos_d = base_d + (i - r + shift) + off[:, :, p, 0]
                pos_h = base_h + (j - r + shift) + off[:, :, p, 1]
                pos_w = base_w + (l - r + shift) + off[:, :, p, 2]
                # grid_sample wants (x, y, z) = (W, H, D), normalised to [-1, 1] with align_corners.
                gw = pos_w / max(pw - 1, 1) * 2 - 1
                gh = pos_h / max(ph - 1, 1) * 2 - 1
                gd = pos_d / max(pd - 1, 1) * 2 - 1
                grid = torch.stack([gw, gh, gd], dim=-1).reshape(n * groups, d, h, w, 3)
                s = F.grid_sample(xg, grid, mode="bilinear", padding_mode=mode, align_corners=True)
                y = y + s.reshape(n, c, d, h, w) * weight[:, 0, i, j, l].view(1, c, 1, 1, 1)
    return y + bias.view(1, c, 1, 1, 1)


class LayerNormCF(nn.Module):
    """LayerNorm over the channel axis of NCDHW tensors, biased variance, eps 1e-6."""

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight.view(1, -1, 1, 1, 1) * x + self.bias.view(1, -1, 1, 1, 1)


class OffsetBranch(nn.Module):
    def __init__(self, c, k, k_off, groups):
        super().__init__()
        self.pw1 = nn.Conv3d(c, c, 1)
        self.dw = nn.Conv3d(c, c, k_off, padding=k_off // 2, groups=c)
        self.pw2 = nn.Conv3d(c, groups * k ** 3 * 3, 1)
        nn.init.zeros_(self.pw2.weight)
        nn.init.zeros_(self.pw2.bias)

    def forward(self, x):
        return self.pw2(self.dw(self.pw1(x)))


class DDC(nn.Module):
    def __init__(self, c, k, k_off, groups):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(c, 1, k, k, k))
        self.bias = nn.Parameter(torch.zeros(c))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.offset = OffsetBranch(c, k, k_off, groups)
        self.groups = groups
        self.variant = None

    def forward(self, x):
        return ddc(x, self.offset(x), self.weight, self.bias, self.groups, self.variant)


class Block(nn.Module):
    def __init__(self, c, k, k_off, groups):
        super().__init__()
        self.ddc = DDC(c, k, k_off, groups)
        self.norm = LayerNormCF(c)
        self.pwconv1 = nn.Conv3d(c, 4 * c, 1, groups=c)
        self.pwconv2 = nn.Conv3d(4 * c, c, 1, groups=c)
        self.gamma = nn.Parameter(torch.full((c,), 1e-6))

    def forward(self, x):
        y = self.norm(self.ddc(x))
        y = self.pwconv2(F.gelu(self.pwconv1(y)))
        return x + self.gamma.view(1, -1, 1, 1, 1) * y


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dims, depths = cfg["feature_sizes"], cfg["depths"]
        k, k_off, g = cfg["kernel_size"], cfg["offset_kernel_size"], cfg["deform_groups"]
        self.downsample_layers = nn.ModuleList()
        self.downsample_layers.append(nn.Sequential(
            nn.Conv3d(cfg["in_channels"], dims[0], 7, stride=2, padding=3), LayerNormCF(dims[0])))
        for i in range(1, 4):
            self.downsample_layers.append(nn.Sequential(LayerNormCF(dims[i - 1]), nn.Conv3d(dims[i - 1], dims[i], 2, stride=2)))
        self.stages = nn.ModuleList([nn.Sequential(*[Block(dims[i], k, k_off, g) for _ in range(depths[i])]) for i in range(4)])
        for i in range(4):
            self.add_module(f"norm{i}", LayerNormCF(dims[i]))

    def forward(self, x):
        outs = []
        for i in range(4):
            x = self.downsample_layers[i](x)
            x = self.stages[i](x)
            outs.append(getattr(self, f"norm{i}")(x))
        return outs


class ConvLayer(nn.Module):
    """Holds `.conv` so that state-dict names read `conv1.conv.weight` as in MONAI."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, k, padding=k // 2, bias=False)

    def forward(self, x):
        return self.conv(x)


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = ConvLayer(cin, cout, 3)
        self.conv2 = ConvLayer(cout, cout, 3)
        if cin != cout:
            self.conv3 = ConvLayer(cin, cout, 1)
        self.has_res_conv = cin != cout

    def forward(self, x):
        a = F.leaky_relu(F.instance_norm(self.conv1(x), eps=1e-5), 0.01)
        b = F.instance_norm(self.conv2(a), eps=1e-5)
        res = F.instance_norm(self.conv3(x), eps=1e-5) if self.has_res_conv else x
        return F.leaky_relu(b + res, 0.01)


class BasicBlock(nn.Module):
    """MONAI UnetrBasicBlock wrapper: names read `encoder1.layer.conv1.conv.weight`."""

    def __init__(self, cin, cout):
        super().__init__()
        self.layer = ResBlock(cin, cout)

    def forward(self, x):
        return self.layer(x)


class TranspConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.ConvTranspose3d(cin, cout, 2, stride=2, bias=False)

    def forward(self, x):
        return self.conv(x)


class UpBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.transp_conv = TranspConv(cin, cout)
        self.conv_block = ResBlock(2 * cout, cout)

    def forward(self, x, skip):
        return self.conv_block(torch.cat([self.transp_conv(x), skip], 1))


class OutBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Module()
        self.conv.conv = nn.Conv3d(cin, cout, 1, bias=True)

    def forward(self, x):
        return self.conv.conv(x)


class DeformUXNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["feature_sizes"]
        self.deformuxnet_3d = Encoder(cfg)
        self.encoder1 = BasicBlock(cfg["in_channels"], d[0])
        self.encoder2 = BasicBlock(d[0], d[1])
        self.encoder3 = BasicBlock(d[1], d[2])
        self.encoder4 = BasicBlock(d[2], d[3])
        self.encoder5 = BasicBlock(d[3], cfg["hidden_size"])
        self.decoder5 = UpBlock(cfg["hidden_size"], d[3])
        self.decoder4 = UpBlock(d[3], d[2])
        self.decoder3 = UpBlock(d[2], d[1])
        self.decoder2 = UpBlock(d[1], d[0])
        self.decoder1 = BasicBlock(d[0], d[0])
        self.out = OutBlock(d[0], cfg["out_channels"])

    def set_variant(self, variant):
        for m in self.modules():
            if isinstance(m, DDC):
                m.variant = variant

    def forward(self, x):
        outs = self.deformuxnet_3d(x)
        enc1 = self.encoder1(x)
        enc2 = self.encoder2(outs[0])
        enc3 = self.encoder3(outs[1])
        enc4 = self.encoder4(outs[2])
        hid = self.encoder5(outs[3])
        u3 = self.decoder5(hid, enc4)
        u2 = self.decoder4(u3, enc3)
        u1 = self.decoder3(u2, enc2)
        u0 = self.decoder2(u1, enc1)
        return self.out(self.decoder1(u0))
