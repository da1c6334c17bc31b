#!/usr/bin/env bash
# Regenerates the demo assets for the seeded publication "The Judean" in
# src/modules/seed/assets/. The outputs are committed, so this is NOT run at
# install or first start; it only documents how the files were made.
#
# Needs: ffmpeg/ffprobe (libx264, drawtext/freetype), DejaVu fonts, and for
# logo.png headless Chromium + playwright-core from node_modules.
# Everything is synthetic (test patterns, generated shapes): no third-party media.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/src/modules/seed/assets"
FONT_DIR="${FONT_DIR:-/usr/share/fonts/truetype/dejavu}"
SERIF_BOLD="$FONT_DIR/DejaVuSerif-Bold.ttf"
SANS="$FONT_DIR/DejaVuSans.ttf"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
NODE="${NODE:-$ROOT/node_modules/.bin/node}"

mkdir -p "$OUT"
for f in "$SERIF_BOLD" "$SANS"; do
  [[ -f "$f" ]] || { echo "missing font $f (apt-get install fonts-dejavu-core)" >&2; exit 1; }
done

# Common flags for reproducible output: single thread, no encoder/version tags,
# no creation times.
FF=(ffmpeg -hide_banner -loglevel error -y)
BITEXACT=(-map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact)

INK="0x1d2430"

# ---------------------------------------------------------------------------
# 1. Demo video clip: SMPTE HD bars with a moving testsrc2 window, a sliding
#    marker, a lower-third caption bar and a quiet 440 Hz tone. 6 s, 640x360,
#    25 fps, H.264 main + AAC-LC, moov atom at the front (+faststart).
# ---------------------------------------------------------------------------
VIDEO="$OUT/blinken-herzog-snippet.mp4"
"${FF[@]}" \
  -f lavfi -i "smptehdbars=size=640x360:rate=25:duration=6" \
  -f lavfi -i "testsrc2=size=192x108:rate=25:duration=6" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=6" \
  -filter_complex "\
[0:v][1:v]overlay=x='24+(W-w-48)*t/6':y=36:shortest=1,\
drawbox=x=0:y=282:w=iw:h=54:color=${INK}@0.85:t=fill,\
drawtext=fontfile=${SERIF_BOLD}:text='The Judean':fontsize=22:fontcolor=white:x=20:y=290,\
drawtext=fontfile=${SANS}:text='Demo clip · test pattern':fontsize=15:fontcolor=0xd8d2c4:x=20:y=314,\
drawtext=fontfile=${SANS}:text='%{pts\:hms}':fontsize=15:fontcolor=white:x=w-tw-20:y=302,\
format=yuv420p[v];\
[2:a]volume=0.08,afade=t=in:d=0.5,afade=t=out:st=5.4:d=0.6[a]" \
  -map "[v]" -map "[a]" \
  -c:v libx264 -profile:v main -preset slow -crf 27 -g 50 -threads 1 -pix_fmt yuv420p \
  -x264-params "no-info=1" \
  -c:a aac -b:a 64k -ac 1 -ar 48000 \
  -t 6 -movflags +faststart "${BITEXACT[@]}" "$VIDEO"

# 2. Poster frame, ~1 s in.
"${FF[@]}" -ss 1 -i "$VIDEO" -frames:v 1 -q:v 3 "${BITEXACT[@]}" "$OUT/blinken-herzog-snippet.jpg"

# 3. Captions (our own words).
cat > "$OUT/blinken-herzog-snippet.en.vtt" <<'VTT'
WEBVTT

00:00:00.000 --> 00:00:02.000
[Demo clip: test pattern]

00:00:02.000 --> 00:00:04.500
Secretary Blinken and President Herzog meet in Tel Aviv

00:00:04.500 --> 00:00:06.000
[Quiet tone]
VTT

# ---------------------------------------------------------------------------
# 4. Article images, 1200x675, abstract and muted.
# ---------------------------------------------------------------------------
IMG=(-frames:v 1 -q:v 4 -pix_fmt yuvj420p "${BITEXACT[@]}")

# Humanitarian aid corridor: sand-to-olive field with faint contour lines,
# crossed by a pale diagonal route with evenly spaced waypoints.
# ROAD = perpendicular distance to the route y = 0.42x + 140;
# DOT  = distance to the nearest waypoint (every 150 px along x).
ROAD='abs(Y-0.42*X-140)/1.0846'
DOT='hypot(mod(X,150)-75,Y-0.42*(X-mod(X,150)+75)-140)'
CONTOUR='lt(abs(sin(hypot(X-930,Y-120)/26)),0.05)'
aid_channel() { # base top-to-bottom drop, road value, waypoint value
  echo "if(lt(${DOT},11),$4,(${1}-${2}*Y/H-10*${CONTOUR})*(1-clip(19-${ROAD},0,1))+${3}*clip(19-${ROAD},0,1))"
}
"${FF[@]}" -f lavfi -i "color=c=black:size=1200x675,format=rgb24" -vf "geq=\
r='$(aid_channel 200 40 228 112)':g='$(aid_channel 186 30 222 104)':b='$(aid_channel 152 50 206 80)',\
vignette=PI/6" "${IMG[@]}" "$OUT/gaza-aid-corridor-explainer.jpg"

# Culture: a warm, desaturated Mandelbrot detail, like a gallery print.
"${FF[@]}" -f lavfi -i "mandelbrot=size=1200x675:start_x=-0.7435669:start_y=0.1314023:start_scale=0.0042:end_scale=0.0042:maxiter=512:outer=normalized_iteration_count:inner=black" \
  -vf "format=rgb24,hue=s=0.18,colorchannelmixer=rr=0.96:gg=0.84:bb=0.68,eq=gamma=1.1:contrast=0.92,vignette=PI/5" \
  -frames:v 1 -q:v 6 -pix_fmt yuvj420p "${BITEXACT[@]}" "$OUT/tel-aviv-galleries-stay-open-late.jpg"

# Economy/technology: a cellular-automaton (rule 110) texture in slate blue.
"${FF[@]}" -f lavfi -i "cellauto=rule=110:size=240x135:start_full=0:random_seed=7:random_fill_ratio=0.5:full=1:rate=1" \
  -vf "scale=1200:675:flags=neighbor,format=rgb24,geq=r='60+30*lt(r(X,Y),128)':g='76+34*lt(g(X,Y),128)':b='96+44*lt(b(X,Y),128)',vignette=PI/5" \
  "${IMG[@]}" "$OUT/startups-adapt-to-long-absences.jpg"

# Analysis/mediation: three overlapping translucent discs on a stone ground
# (edges anti-aliased over ~1 px).
D1='clip(190.5-hypot(X-480,Y-300),0,1)'
D2='clip(190.5-hypot(X-720,Y-300),0,1)'
D3='clip(190.5-hypot(X-600,Y-470),0,1)'
"${FF[@]}" -f lavfi -i "color=c=black:size=1200x675,format=rgb24" -vf "geq=\
r='226-8*Y/H-44*${D1}-24*${D2}-36*${D3}':\
g='220-8*Y/H-30*${D1}-40*${D2}-30*${D3}':\
b='208-8*Y/H-20*${D1}-52*${D2}-46*${D3}',\
vignette=PI/7" "${IMG[@]}" "$OUT/analysis-mediators-patience.jpg"

# ---------------------------------------------------------------------------
# 5. Wordmark and favicon. SVGs are hand-written; logo.png (600x60, transparent)
#    is rasterised from logo.svg with headless Chromium so the two match.
# ---------------------------------------------------------------------------
cat > "$OUT/logo.svg" <<'SVG'
<svg xmlns="http://www.w3.org/2000/svg" width="600" height="60" viewBox="0 0 600 60" role="img" aria-labelledby="t">
  <title id="t">The Judean</title>
  <text x="300" y="45" text-anchor="middle" fill="#1d2430"
        font-family="Georgia, 'DejaVu Serif', 'Times New Roman', serif"
        font-size="44" font-weight="700" letter-spacing="1">The Judean</text>
</svg>
SVG

cat > "$OUT/favicon.svg" <<'SVG'
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
  <rect width="64" height="64" rx="10" fill="#1d2430"/>
  <text x="32" y="47" text-anchor="middle" fill="#f4efe4"
        font-family="Georgia, 'DejaVu Serif', 'Times New Roman', serif"
        font-size="44" font-weight="700">J</text>
</svg>
SVG

if [[ -x "$CHROMIUM" ]]; then
  PROFILE="$(mktemp -d)"
  trap 'rm -rf "$PROFILE"' EXIT
  (cd "$ROOT" && SVG="$OUT/logo.svg" PNG="$OUT/logo.png" CHROMIUM="$CHROMIUM" PROFILE="$PROFILE" \
    "$NODE" --input-type=module -e '
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
const svg = readFileSync(process.env.SVG, "utf8");
const ctx = await chromium.launchPersistentContext(process.env.PROFILE, {
  executablePath: process.env.CHROMIUM, headless: true,
  viewport: { width: 600, height: 60 }, deviceScaleFactor: 1,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"],
});
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.setContent(`<!doctype html><style>html,body{margin:0;background:transparent}svg{display:block}</style>${svg}`);
  await page.locator("svg").screenshot({ path: process.env.PNG, omitBackground: true });
} finally { await ctx.close(); }
')
else
  echo "chromium not found; falling back to ffmpeg drawtext for logo.png" >&2
  "${FF[@]}" -f lavfi -i "color=c=black@0.0:size=600x60,format=rgba" -vf \
    "drawtext=fontfile=${SERIF_BOLD}:text='The Judean':fontsize=42:fontcolor=${INK}:x=(w-tw)/2:y=(h-th)/2" \
    -frames:v 1 "${BITEXACT[@]}" "$OUT/logo.png"
fi

# ---------------------------------------------------------------------------
# Verify.
# ---------------------------------------------------------------------------
ffprobe -v error -show_entries format=duration:stream=codec_name,profile,width,height,r_frame_rate,pix_fmt,sample_rate \
  -of compact "$VIDEO"
# +faststart: the moov box must come before mdat.
moov=$(grep -abo moov "$VIDEO" | head -1 | cut -d: -f1)
mdat=$(grep -abo mdat "$VIDEO" | head -1 | cut -d: -f1)
if (( moov < mdat )); then echo "moov at byte $moov, before mdat at $mdat: faststart OK"; else echo "moov is not at the front" >&2; exit 1; fi
for f in "$OUT"/*.jpg "$OUT"/*.png; do
  printf '%s %s\n' "$(basename "$f")" "$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$f")"
done
ls -l "$OUT"
