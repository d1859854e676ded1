#!/usr/bin/python3
"""Train ChatCast's bundled default detector: finds videotestsrc's `pattern=ball`.

Run with Debian's python (torch 1.13 + numpy, CPU only):

    /usr/bin/python3 models/train_ball.py [--out models/ball-yolov8.torchscript] [--quick]

--quick is a < 1 min smoke test that writes to the temp dir unless --out is given.

Training data are real frames rendered by `gst-launch-1.0 videotestsrc pattern=ball`
at many frame sizes, motions and colours. Each frame is letterboxed exactly like
Ultralytics (and the ChatCast element) do, the ground-truth box is measured from the
pixels, and a small anchor-free CNN is trained whose TorchScript export speaks the
YOLOv8 detect output format: one tensor [1, 5, N] = (cx, cy, w, h, score) per grid cell.
The script ends by evaluating the exported file on frames it never trained on.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IMG_SIZE = 320          # model input is IMG_SIZE x IMG_SIZE
STRIDE = 8              # one prediction per 8x8 input pixels -> 40x40 = 1600 cells
PAD_VALUE = 114         # Ultralytics letterbox grey
CONF_THRESHOLD = 0.25   # decode settings a consumer uses (Ultralytics defaults)
NMS_IOU = 0.45
MATCH_IOU = 0.5
SEED = 20240601
POSITIVES_PER_BALL = 4      # loss weight of one ball's positive cells, however many
RECOLOUR_SHARE = 0.4        # share of training balls repainted with random colours
THREADS = 2

WHITE, BLACK = 0xFFFFFFFF, 0xFF000000   # videotestsrc's default foreground / background
TRAIN_FRAMES = range(0, 160, 2)         # frame numbers used for training ...
EVAL_FRAMES = range(170, 320)           # ... and disjoint ones held out for evaluation


# --------------------------------------------------------------------------- progress

class ProgressBar:
    """Minimal tqdm stand-in (tqdm is not a Debian dependency here); draws on stderr."""

    def __init__(self, total, label):
        self.total, self.label, self.done = total, label, 0
        self.start = time.time()
        self.info = ""

    def update(self, n=1, info=""):
        self.done += n
        self.info = info or self.info
        elapsed = time.time() - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        filled = int(30 * self.done / max(self.total, 1))
        sys.stderr.write(f"\r{self.label:<9} [{'#' * filled}{'.' * (30 - filled)}] "
                         f"{self.done}/{self.total} {elapsed:5.0f}s<{eta:4.0f}s {self.info}   ")
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------- rendering

@dataclass(frozen=True)
class Clip:
    """One gst-launch run of videotestsrc; `frames` are the frame numbers kept."""
    width: int
    height: int
    frames: range
    motion: str = "wavy"
    fg: int = WHITE
    bg: int = BLACK
    pattern: str = "ball"
    source_format: str = "RGB"   # I420 exercises the chroma subsampling of YUV pipelines

    @property
    def has_ball(self):
        return self.pattern == "ball"

    def describe(self):
        if not self.has_ball:
            return f"{self.width}x{self.height} {self.pattern}"
        colours = "" if (self.fg, self.bg) == (WHITE, BLACK) else f" fg={self.fg:08x} bg={self.bg:08x}"
        fmt = "" if self.source_format == "RGB" else f" via {self.source_format}"
        return f"{self.width}x{self.height} {self.motion}{colours}{fmt}"


def gst_command(clip):
    src = ["videotestsrc", f"pattern={clip.pattern}", f"num-buffers={clip.frames.stop}"]
    if clip.has_ball:
        src += ["animation-mode=frames", f"motion={clip.motion}",
                f"foreground-color={clip.fg}", f"background-color={clip.bg}"]
    size = f"width={clip.width},height={clip.height}"
    if clip.source_format == "RGB":
        chain = src + ["!", f"video/x-raw,format=RGB,{size}"]
    else:
        chain = src + ["!", f"video/x-raw,format={clip.source_format},{size}",
                       "!", "videoconvert", "!", "video/x-raw,format=RGB"]
    return ["gst-launch-1.0", "-q"] + chain + ["!", "fdsink", "fd=1"]


def render_frames(clip):
    """Yield (frame_number, HxWx3 uint8 RGB) for the clip's kept frames.

    Frames arrive as raw buffers on stdout; GStreamer pads each RGB row to 4 bytes."""
    row_bytes = (clip.width * 3 + 3) & ~3
    frame_bytes = row_bytes * clip.height
    keep = set(clip.frames)
    proc = subprocess.Popen(gst_command(clip), stdout=subprocess.PIPE)
    try:
        for n in range(clip.frames.stop):
            raw = proc.stdout.read(frame_bytes)
            if len(raw) != frame_bytes:
                raise RuntimeError(f"gst-launch ended early at frame {n}: {' '.join(gst_command(clip))}")
            if n in keep:
                rows = np.frombuffer(raw, np.uint8).reshape(clip.height, row_bytes)
                yield n, rows[:, :clip.width * 3].reshape(clip.height, clip.width, 3)
    finally:
        proc.stdout.close()
        proc.wait()


def argb_to_rgb(argb):
    return np.array([(argb >> 16) & 255, (argb >> 8) & 255, argb & 255], np.int32)


def ball_box(frame, clip):
    """Bounding box (x1, y1, x2, y2, pixel edges) of the ball, measured from the pixels.

    Looks at the colour channel where foreground and background differ most. The ball
    edge is anti-aliased over ~2 px; a pixel counts once it is a quarter of the way from
    the background to the foreground, which gives the nominal 2 x radius box. sweep and
    hsweep also draw 1-px lines across the whole frame; those fill entire rows/columns,
    which the ball never does: they are cleared and then refilled from their neighbours,
    so a line crossing the ball's edge does not eat into the box."""
    fg, bg = argb_to_rgb(clip.fg), argb_to_rgb(clip.bg)
    channel = int(np.argmax(np.abs(fg - bg)))
    is_ball = np.abs(np.arange(256) - bg[channel]) * 4 >= abs(fg[channel] - bg[channel])
    mask = is_ball[frame[..., channel]]    # lookup table: much faster than float maths
    h, w = mask.shape
    line_rows = np.nonzero(mask.sum(1) > 0.95 * w)[0]
    line_cols = np.nonzero(mask.sum(0) > 0.95 * h)[0]
    mask[line_rows, :] = False
    mask[:, line_cols] = False
    for r in line_rows:
        mask[r, :] = mask[max(r - 1, 0), :] | mask[min(r + 1, h - 1), :]
    for c in line_cols:
        mask[:, c] = mask[:, max(c - 1, 0)] | mask[:, min(c + 1, w - 1)]
    ys, xs = np.nonzero(mask.sum(1))[0], np.nonzero(mask.sum(0))[0]
    if len(xs) == 0:
        return None
    return np.array([xs[0], ys[0], xs[-1] + 1, ys[-1] + 1], np.float32)


def expected_diameter(clip):
    """What videotestsrc 1.22 draws: radius 20 for wavy, min(w, h) / 4 for the sweeps."""
    radius = 20 if clip.motion == "wavy" else min(clip.width, clip.height) // 4
    return 2 * radius


# --------------------------------------------------------------------------- letterbox

@dataclass(frozen=True)
class Letterbox:
    scale: float
    left: int
    top: int
    width: int      # size of the resized frame inside the padded input
    height: int

    @property
    def region(self):
        return self.left, self.top, self.left + self.width, self.top + self.height

    def to_input(self, box):
        return box * self.scale + np.array([self.left, self.top] * 2, np.float32)

    def to_frame(self, box, width, height):
        box = (box - np.array([self.left, self.top] * 2, np.float32)) / self.scale
        return np.clip(box, 0, [width, height, width, height]).astype(np.float32)


def letterbox(frame, antialias=False):
    """Resize to fit IMG_SIZE keeping aspect (bilinear, half-pixel centres like cv2
    INTER_LINEAR), pad with 114 centred (floor half on left/top). Returns uint8 CHW."""
    h, w = frame.shape[:2]
    r = min(IMG_SIZE / w, IMG_SIZE / h)
    nw, nh = int(round(w * r)), int(round(h * r))
    image = torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float()
    if (nw, nh) != (w, h):
        image = F.interpolate(image, size=(nh, nw), mode="bilinear", align_corners=False,
                              antialias=antialias)
    left, top = (IMG_SIZE - nw) // 2, (IMG_SIZE - nh) // 2
    out = torch.full((3, IMG_SIZE, IMG_SIZE), PAD_VALUE, dtype=torch.uint8)
    out[:, top:top + nh, left:left + nw] = image[0].round().clamp(0, 255).to(torch.uint8)
    return out, Letterbox(r, left, top, nw, nh)


def to_model_input(images_uint8):
    return images_uint8.float() / 255.0


# --------------------------------------------------------------------------- datasets

@dataclass
class Sample:
    image: torch.Tensor          # uint8 [3, S, S], letterboxed
    box: np.ndarray              # ball box in input pixels, or None
    frame_box: np.ndarray        # ball box in frame pixels, or None
    geometry: Letterbox
    clip: Clip
    frame_number: int


def load_samples(clips, label, rng=None, antialias_share=0.0):
    """Render clips and letterbox every kept frame. A share of frames is resized with
    antialiasing so the model tolerates consumers that resize differently."""
    samples, bar = [], ProgressBar(len(clips), label)
    for clip in clips:
        for n, frame in render_frames(clip):
            antialias = rng is not None and rng.random() < antialias_share
            image, geometry = letterbox(frame, antialias)
            frame_box = ball_box(frame, clip) if clip.has_ball else None
            box = geometry.to_input(frame_box) if frame_box is not None else None
            samples.append(Sample(image, box, frame_box, geometry, clip, n))
        bar.update(info=clip.describe())
    bar.close()
    return samples


def random_colours(rng):
    """Foreground/background pair that differs clearly in some channel and a little
    in brightness (4:2:0 subsampling blurs pure-chroma edges)."""
    while True:
        fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        luma = lambda c: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
        if np.abs(fg - bg).max() >= 100 and abs(luma(fg) - luma(bg)) >= 30:
            to_argb = lambda c: 0xFF000000 | int(c[0]) << 16 | int(c[1]) << 8 | int(c[2])
            return to_argb(fg), to_argb(bg)


def random_frame_size(rng, max_side=1920):
    """Long side log-uniform in 160..max_side px, common aspect ratios incl. portrait."""
    long_side = math.exp(rng.uniform(math.log(160), math.log(max_side)))
    aspect = rng.choice([4 / 3, 16 / 9, 1.0, 3 / 2, 5 / 4, 21 / 9, 3 / 4, 9 / 16])
    w, h = (long_side, long_side / aspect) if aspect >= 1 else (long_side * aspect, long_side)
    return max(64, int(w) // 2 * 2), max(48, int(h) // 2 * 2)


def training_clips(rng, quick):
    if quick:
        return [Clip(320, 240, range(0, 40, 2)), Clip(640, 360, range(0, 40, 2), motion="sweep"),
                Clip(200, 150, range(0, 4), pattern="smpte")]
    # The sizes ChatCast's tests use, default colours, get a clip each.
    clips = [Clip(w, h, TRAIN_FRAMES) for w, h in [(320, 240), (640, 480), (1280, 720), (1920, 1080), (160, 120)]]
    for i in range(44):
        motion = str(rng.choice(["wavy", "wavy", "wavy", "sweep", "hsweep"]))
        # The sweep ball scales with the frame, so big sweep frames would only add
        # rendering time; the wavy ball is 40 px always and needs big frames to get small.
        w, h = random_frame_size(rng, 1920 if motion == "wavy" else 640)
        fg, bg = (WHITE, BLACK) if i % 2 == 0 else random_colours(rng)
        source_format = "I420" if i % 4 == 1 else "RGB"
        clips.append(Clip(w, h, TRAIN_FRAMES, motion, fg, bg, source_format=source_format))
    # Frames without a ball teach the model to stay quiet on other content.
    for pattern in ["smpte", "snow", "black", "white", "checkers-8", "circular", "gradient",
                    "colors", "pinwheel", "zone-plate", "bar", "smpte-rp-219"]:
        w, h = random_frame_size(rng)
        clips.append(Clip(w, h, range(0, 12), pattern=pattern))
    return clips


def evaluation_clips(quick):
    if quick:
        return [Clip(320, 240, range(170, 190))]
    held_out = EVAL_FRAMES
    return [
        Clip(320, 240, held_out), Clip(640, 480, held_out), Clip(1280, 720, held_out),
        Clip(1920, 1080, held_out), Clip(160, 120, held_out),
        # sizes never seen in training
        Clip(1024, 576, held_out), Clip(480, 640, held_out), Clip(800, 600, held_out),
        Clip(640, 480, held_out, motion="sweep"), Clip(640, 480, held_out, motion="hsweep"),
        Clip(640, 480, held_out, fg=0xFFFF0000, bg=0xFF0000FF),
        Clip(640, 480, held_out, fg=0xFF000000, bg=0xFFFFFFFF),
        Clip(640, 480, held_out, source_format="I420"),
        Clip(640, 480, range(0, 8), pattern="smpte"),
        Clip(640, 480, range(0, 30), pattern="snow"),
    ]


def check_ground_truth(samples):
    """Guard against a wrong pixel-based box: it must match what videotestsrc draws.
    Returns the measured sizes of the default white-on-black wavy balls."""
    wavy_sizes = []
    for s in samples:
        if not s.clip.has_ball:
            continue
        w, h = s.frame_box[2:] - s.frame_box[:2]
        want = expected_diameter(s.clip)
        # 4:2:0 chroma subsampling blurs coloured edges by about a pixel
        tolerance = 2 if s.clip.source_format == "RGB" else max(3, 0.06 * want)
        if abs(w - want) > tolerance or abs(h - want) > tolerance:
            raise RuntimeError(f"ground truth {w:.0f}x{h:.0f} px, expected ~{want} px: "
                               f"{s.clip.describe()} frame {s.frame_number}")
        if s.clip.motion == "wavy" and (s.clip.fg, s.clip.bg) == (WHITE, BLACK):
            wavy_sizes += [w, h]
    return np.array(wavy_sizes)


# --------------------------------------------------------------------------- model

class ConvBnAct(nn.Module):
    def __init__(self, c_in, c_out, stride=1, dilation=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride, dilation, dilation=dilation, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))

    def fuse(self):
        """Fold BatchNorm into the convolution for a faster exported model."""
        self.conv = torch.nn.utils.fusion.fuse_conv_bn_eval(self.conv, self.bn)
        self.bn = nn.Identity()


class Residual(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        return x + self.block(x)


class BallDetector(nn.Module):
    """Anchor-free single-scale detector, YOLOv8 output format.

    Downsamples only to stride 8 (so 7-px balls still own a cell), then grows the
    receptive field with dilated residual convs (~270 px, enough for 160-px balls)."""

    def __init__(self, width=48):
        super().__init__()
        self.features = nn.Sequential(
            ConvBnAct(3, 16, stride=2), ConvBnAct(16, 32, stride=2), ConvBnAct(32, 32),
            ConvBnAct(32, width, stride=2),
            *[Residual(ConvBnAct(width, width, dilation=d)) for d in (1, 2, 4, 8)],
            ConvBnAct(width, width))
        self.head = nn.Conv2d(width, 5, 1)
        cells = IMG_SIZE // STRIDE
        ys, xs = torch.meshgrid(torch.arange(cells), torch.arange(cells), indexing="ij")
        anchors = torch.stack([xs, ys]).reshape(1, 2, -1).float() + 0.5
        self.register_buffer("anchors", anchors)   # cell centres, in stride units
        nn.init.constant_(self.head.bias[4], -4.0)  # start with few detections: stable BCE

    def raw(self, x):
        """[B, 5, N] logits: centre offset (2), log size (2), class logit."""
        return self.head(self.features(x)).flatten(2)

    def decode(self, raw):
        centre = (self.anchors + raw[:, 0:2]) * STRIDE
        size = torch.exp(raw[:, 2:4].clamp(-6.0, 6.0)) * STRIDE
        return torch.cat([centre, size, torch.sigmoid(raw[:, 4:5])], dim=1)

    def forward(self, x):
        return self.decode(self.raw(x))

    def fuse(self):
        for m in self.modules():
            if isinstance(m, ConvBnAct):
                m.fuse()
        return self


# --------------------------------------------------------------------------- training

def xywh_to_xyxy(b):
    return torch.cat([b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2], dim=-1)


def box_iou_and_giou(a, b):
    """Element-wise IoU and GIoU of xyxy boxes [..., 4]."""
    lt, rb = torch.max(a[..., :2], b[..., :2]), torch.min(a[..., 2:], b[..., 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda x: (x[..., 2:] - x[..., :2]).clamp(min=0).prod(-1)
    union = area(a) + area(b) - inter + 1e-9
    iou = inter / union
    hull = (torch.max(a[..., 2:], b[..., 2:]) - torch.min(a[..., :2], b[..., :2])).prod(-1) + 1e-9
    return iou, iou - (hull - union) / hull


def positive_cells(anchors_px, box):
    """Cells whose centre lies near the ball centre: within a quarter of its size
    (2.5 cells at most), and never fewer than the nearest cell."""
    centre, size = (box[:2] + box[2:]) / 2, box[2:] - box[:2]
    reach = (size / 4).clamp(min=0.75 * STRIDE, max=2.5 * STRIDE)
    return ((anchors_px - centre[:, None]).abs() <= reach[:, None]).all(0)


def detection_loss(model, raw, boxes):
    """YOLOv8-style: IoU-aware class target (BCE) + box loss on the positive cells.

    Every ball weighs the same however many cells it covers, otherwise the 100-px
    sweep balls (~25 positive cells) drown the 7-px ones (1-4 cells)."""
    pred = model.decode(raw)
    anchors_px = model.anchors[0] * STRIDE
    score_target = torch.zeros_like(raw[:, 4])
    weight = torch.ones_like(raw[:, 4])
    box_loss, balls = raw.new_zeros(()), 0
    for i, box in enumerate(boxes):
        if box is None:
            continue
        box = torch.as_tensor(box)
        pos = positive_cells(anchors_px, box)
        pred_xyxy = xywh_to_xyxy(pred[i, :4, pos].T)
        iou, giou = box_iou_and_giou(pred_xyxy, box.expand_as(pred_xyxy))
        size, centre = box[2:] - box[:2], (box[:2] + box[2:]) / 2
        # log-size and relative-centre terms sharpen tiny boxes where GIoU gradients are weak
        per_cell = (1 - giou) + (pred[i, 2:4, pos].T / size).log().abs().sum(1) \
            + ((pred[i, 0:2, pos].T - centre).abs() / size).sum(1)
        box_loss = box_loss + per_cell.mean()
        # sqrt keeps tiny balls (inherently lower IoU) well above the 0.25 threshold
        score_target[i, pos] = iou.detach().clamp(min=0.01).sqrt()
        weight[i, pos] = POSITIVES_PER_BALL / pos.sum()
        balls += 1
    cls_loss = F.binary_cross_entropy_with_logits(raw[:, 4], score_target, weight, reduction="sum")
    return (cls_loss / POSITIVES_PER_BALL + 2.0 * box_loss) / max(balls, 1)


def recolour(image, region, fg, bg, new_fg, new_bg):
    """Repaint a ball frame with other colours. Every frame pixel is a blend
    bg + a * (fg - bg), so the blend weight a is recovered and reused; the grey
    letterbox padding outside `region` stays untouched."""
    x0, y0, x1, y1 = region
    content = image[:, y0:y1, x0:x1].float()
    fg, bg = torch.tensor(fg, dtype=torch.float32)[:, None, None], torch.tensor(bg, dtype=torch.float32)[:, None, None]
    a = (((content - bg) * (fg - bg)).sum(0) / ((fg - bg) ** 2).sum()).clamp(0, 1)
    new_fg = torch.tensor(new_fg, dtype=torch.float32)[:, None, None]
    new_bg = torch.tensor(new_bg, dtype=torch.float32)[:, None, None]
    image[:, y0:y1, x0:x1] = (new_bg + a * (new_fg - new_bg)).round().to(torch.uint8)


def random_recolour_pair(generator):
    """Any two colours that differ clearly in at least one channel."""
    while True:
        fg, bg = torch.randint(0, 256, (2, 3), generator=generator).tolist()
        if max(abs(f - b) for f, b in zip(fg, bg)) >= 80:
            return fg, bg


def augment(samples, generator):
    """Batch of letterboxed images and boxes with random colours, flips and transpose
    (the ball and the letterbox layout are symmetric)."""
    images = torch.stack([s.image for s in samples])
    boxes = [s.box for s in samples]
    for i, s in enumerate(samples):
        if s.box is not None and torch.rand((), generator=generator) < RECOLOUR_SHARE:
            recolour(images[i], s.geometry.region, argb_to_rgb(s.clip.fg), argb_to_rgb(s.clip.bg),
                     *random_recolour_pair(generator))
    size = IMG_SIZE
    if torch.rand((), generator=generator) < 0.5:
        images = images.flip(3)
        boxes = [None if b is None else np.array([size - b[2], b[1], size - b[0], b[3]], np.float32) for b in boxes]
    if torch.rand((), generator=generator) < 0.5:
        images = images.flip(2)
        boxes = [None if b is None else np.array([b[0], size - b[3], b[2], size - b[1]], np.float32) for b in boxes]
    if torch.rand((), generator=generator) < 0.25:
        images = images.transpose(2, 3)
        boxes = [None if b is None else b[[1, 0, 3, 2]] for b in boxes]
    if torch.rand((), generator=generator) < 0.5:   # channel order keeps the grey pad grey
        images = images[:, torch.randperm(3, generator=generator)]
    return images.contiguous(), boxes   # strided input makes the convolutions ~2x slower


def sampling_weights(samples):
    """Draw small balls more often: they are the hard case (and the common one in HD)."""
    def weight(s):
        if s.box is None:
            return 1.0
        size = math.sqrt(float(np.prod(s.box[2:] - s.box[:2])))
        return min(2.0, max(0.5, math.sqrt(40.0 / size)))
    return torch.tensor([weight(s) for s in samples])


def train(model, samples, steps, batch_size):
    generator = torch.Generator().manual_seed(SEED)
    weights = sampling_weights(samples)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=5e-4)
    warmup = max(1, steps // 20)
    schedule = lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    bar, smoothed = ProgressBar(steps, "train"), None
    for step in range(steps):
        index = torch.multinomial(weights, batch_size, replacement=True, generator=generator)
        images, boxes = augment([samples[i] for i in index], generator)
        loss = detection_loss(model, model.raw(to_model_input(images)), boxes)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        smoothed = loss.item() if smoothed is None else 0.95 * smoothed + 0.05 * loss.item()
        bar.update(info=f"loss {smoothed:.3f}")
    bar.close()
    return model.eval()


# --------------------------------------------------------------------------- export

def export(model, path):
    model = model.eval().fuse()
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.zeros(1, 3, IMG_SIZE, IMG_SIZE))
    config = {
        "description": "ChatCast default ball detector",
        "author": "ChatCast (models/train_ball.py)",
        "task": "detect",
        "stride": STRIDE,
        "batch": 1,
        "imgsz": [IMG_SIZE, IMG_SIZE],
        "names": {"0": "ball"},
        "output": "[1, 5, N]: cx, cy, w, h in input pixels, class score (sigmoid)",
    }
    torch.jit.save(traced, path, _extra_files={"config.txt": json.dumps(config)})


# --------------------------------------------------------------------------- evaluation

def nms(boxes, scores, iou_threshold):
    order, keep = np.argsort(-scores), []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(best)
        lt = np.maximum(boxes[best, :2], boxes[rest, :2])
        rb = np.minimum(boxes[best, 2:], boxes[rest, 2:])
        inter = np.clip(rb - lt, 0, None).prod(1)
        area = lambda b: (b[..., 2:] - b[..., :2]).prod(-1)
        iou = inter / (area(boxes[best]) + area(boxes[rest]) - inter + 1e-9)
        order = rest[iou <= iou_threshold]
    return boxes[keep], scores[keep]


def detect(model, sample):
    """What a consumer does with the [1, 5, N] output: threshold, map back, NMS."""
    with torch.no_grad():
        out = model(to_model_input(sample.image[None]))[0].numpy()
    keep = out[4] > CONF_THRESHOLD
    cx, cy, w, h = out[:4, keep]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    boxes = sample.geometry.to_frame(boxes, sample.clip.width, sample.clip.height)
    return nms(boxes, out[4, keep], NMS_IOU)


def iou_one_to_many(box, boxes):
    lt, rb = np.maximum(box[:2], boxes[:, :2]), np.minimum(box[2:], boxes[:, 2:])
    inter = np.clip(rb - lt, 0, None).prod(1)
    area = lambda b: (b[..., 2:] - b[..., :2]).prod(-1)
    return inter / (area(box) + area(boxes) - inter + 1e-9)


def evaluate(model, samples):
    """Precision / recall at IoU >= 0.5 per clip (each ball matched at most once)."""
    rows = {}
    for s in samples:
        row = rows.setdefault(s.clip, dict(frames=0, balls=0, preds=0, tp=0, ious=[], gt_sizes=[]))
        boxes, _ = detect(model, s)
        row["frames"] += 1
        row["preds"] += len(boxes)
        if s.frame_box is None:
            continue
        row["balls"] += 1
        row["gt_sizes"].append(s.frame_box[2:] - s.frame_box[:2])
        if len(boxes):
            best = iou_one_to_many(s.frame_box, boxes).max()
            row["ious"].append(best)
            row["tp"] += int(best >= MATCH_IOU)
    return rows


def print_table(rows):
    header = f"{'clip (held-out frames)':<44} {'frames':>6} {'GT px':>9} {'preds':>5} {'TP':>4} " \
             f"{'prec':>6} {'recall':>6} {'mIoU':>5}"
    print(header)
    print("-" * len(header))
    for clip, r in rows.items():
        precision = f"{r['tp'] / r['preds']:.3f}" if r["preds"] else "-"
        recall = r["tp"] / r["balls"] if r["balls"] else 0.0
        size = np.mean(r["gt_sizes"], 0) if r["gt_sizes"] else None
        size_txt = f"{size[0]:.0f}x{size[1]:.0f}" if size is not None else "-"
        miou = f"{np.mean(r['ious']):.2f}" if r["ious"] else "-"
        if r["balls"]:
            print(f"{clip.describe():<44} {r['frames']:>6} {size_txt:>9} {r['preds']:>5} {r['tp']:>4} "
                  f"{precision:>6} {recall:>6.3f} {miou:>5}")
        else:   # no ball: every prediction is a false positive
            print(f"{clip.describe() + ' (no ball)':<44} {r['frames']:>6} {size_txt:>9} {r['preds']:>5} "
                  f"{'-':>4} {'-':>6} {'-':>6} {'-':>5}")


def summarize(rows):
    """Overall precision / recall; predictions on ball-free frames count as false."""
    tp = sum(r["tp"] for r in rows.values())
    preds = sum(r["preds"] for r in rows.values())
    balls = sum(r["balls"] for r in rows.values())
    return tp / max(preds, 1), tp / max(balls, 1)


def forward_ms(path):
    """Time the exported model in a fresh process, as a consumer would run it (no
    flush-denormal setting, no gigabytes of training data on the heap)."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--benchmark", path],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def benchmark(path, rounds=9, runs=50):
    """Median over rounds: a shared 2-core machine has noisy neighbours."""
    torch.set_num_threads(THREADS)
    model = torch.jit.load(path)
    x = torch.rand(1, 3, IMG_SIZE, IMG_SIZE)
    timings = []
    with torch.no_grad():
        for _ in range(30):   # TorchScript optimises during the first calls
            model(x)
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(runs):
                model(x)
            timings.append((time.perf_counter() - start) / runs * 1000)
    print(float(np.median(timings)))


# --------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="default: models/ball-yolov8.torchscript "
                                          "(with --quick: ball-yolov8-quick.torchscript in the temp dir)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke-test run (< 1 min)")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 800, quick 120)")
    parser.add_argument("--benchmark", metavar="MODEL", help="only print a forward's time in ms")
    args = parser.parse_args()
    if args.benchmark:
        return benchmark(args.benchmark)
    if args.out is None:   # a smoke test must not overwrite the bundled model
        args.out = os.path.join(tempfile.gettempdir(), "ball-yolov8-quick.torchscript") if args.quick \
            else os.path.join(os.path.dirname(os.path.abspath(__file__)), "ball-yolov8.torchscript")

    torch.set_num_threads(THREADS)
    torch.set_flush_denormal(True)   # near-black frames otherwise produce slow denormal maths
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    started = time.time()

    train_samples = load_samples(training_clips(rng, args.quick), "render", rng, antialias_share=0.25)
    sizes = check_ground_truth(train_samples)
    balls = sum(s.box is not None for s in train_samples)
    print(f"training frames: {len(train_samples)} ({balls} with a ball), "
          f"rendered in {time.time() - started:.0f}s", flush=True)
    print(f"ground truth of default wavy balls: {sizes.min():.0f}..{sizes.max():.0f} px "
          f"(mean {sizes.mean():.1f}), videotestsrc radius 20", flush=True)

    steps = args.steps or (120 if args.quick else 800)
    train_started = time.time()
    model = train(BallDetector(), train_samples, steps, batch_size=8 if args.quick else 16)
    train_seconds = time.time() - train_started
    del train_samples

    export(model, args.out)
    extra = {"config.txt": ""}
    exported = torch.jit.load(args.out, _extra_files=extra)
    print(f"config.txt: {extra['config.txt'].decode()}", flush=True)
    eval_samples = load_samples(evaluation_clips(args.quick), "evaluate")
    check_ground_truth(eval_samples)
    rows = evaluate(exported, eval_samples)

    print(f"\nmodel: {args.out} ({os.path.getsize(args.out) / 1024:.0f} KiB), input [1,3,{IMG_SIZE},{IMG_SIZE}], "
          f"output [1,5,{(IMG_SIZE // STRIDE) ** 2}], stride {STRIDE}")
    print(f"training: {steps} steps in {train_seconds:.0f}s; total run {time.time() - started:.0f}s")
    print(f"forward: {forward_ms(args.out):.2f} ms/frame on {THREADS} threads")
    print(f"decode: score > {CONF_THRESHOLD}, NMS IoU {NMS_IOU}, match IoU >= {MATCH_IOU}\n")
    print_table(rows)
    precision, recall = summarize(rows)
    print(f"\noverall precision {precision:.3f} recall {recall:.3f}")
    if not args.quick and min(precision, recall) < 0.9:
        sys.exit("precision/recall below 0.9")


if __name__ == "__main__":
    main()
