"""A before / after swipe of two pictures as one self-contained HTML snippet.

:func:`swipe_html` stacks two PNGs (inline ``data:`` URIs) and clips the top one at a divider the
reader drags; the divider is an ``<input type="range">``, so it works with the mouse, touch and
the keyboard (arrow keys, Home / End, Page Up / Down) and screen readers announce its value. The
snippet has inline CSS and JS only and no external URL (the dashboard runs on a closed network);
render it with ``streamlit.components.v1.html(snippet, height=height_px + 8)``.

The two pictures should be the same size (e.g. two :func:`sinks.explorer.mapimage.map_png` of
the same area): the right one shows through where the left one is clipped.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io

__all__ = ["swipe_html"]

def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def swipe_html(left_png: bytes, right_png: bytes, *, left_label: str, right_label: str, height_px: int,
               start_pct: float = 50.0, slider_label: str = "Divider position / 分割线位置") -> str:
    """HTML showing ``left_png`` over ``right_png`` with a draggable vertical divider at
    ``start_pct`` % of the width: left of it the left picture, right of it the right one, the two
    labels above the picture (never over the map title). Inline base64 images, CSS and JS; no external URL."""
    if not left_png or not right_png:
        raise ValueError("both pictures are needed")
    from PIL import Image

    w, hh = Image.open(io.BytesIO(left_png)).size  # the stage takes the picture's shape, so the divider
    # and the clip fall on the same point of the map. The id follows the content: the same swipe
    # gives the same snippet, so a rerun does not reload the frame and reset the divider.
    uid = "swp" + hashlib.sha256(b"\0".join([left_png, right_png, left_label.encode(), right_label.encode(),
                                              str(height_px).encode(), str(start_pct).encode()])).hexdigest()[:12]
    start = min(max(float(start_pct), 0.0), 100.0)
    h = max(int(height_px), 50)
    ll, rl, sl = html.escape(left_label), html.escape(right_label), html.escape(slider_label)
    return f"""<div id="{uid}" class="swp" style="height:{h}px">
<style>
#{uid}.swp{{position:relative;width:100%;max-width:100%;overflow:hidden;font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;background:#fff;user-select:none}}
#{uid} .swp-box{{width:min(100%, calc(({h}px - 62px) * {w} / {hh}))}}
#{uid} .swp-labs{{display:flex;justify-content:space-between;gap:8px;height:24px;margin:0 0 4px 0}}
#{uid} .swp-stage{{position:relative;aspect-ratio:{w} / {hh};width:100%}}
#{uid} .swp-stage img{{position:absolute;top:0;left:0;width:100%;height:100%;object-fit:fill}}
#{uid} .swp-top{{clip-path:inset(0 calc(100% - var(--pos)) 0 0)}}
#{uid} .swp-line{{position:absolute;top:0;bottom:0;left:var(--pos);width:3px;margin-left:-1px;background:#fff;box-shadow:0 0 0 1px #333;pointer-events:none}}
#{uid} .swp-lab{{padding:1px 8px;background:#fff;border:1px solid #777;border-radius:4px;font-size:14px;color:#222;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
#{uid} input[type=range]{{display:block;width:100%;height:28px;margin:4px 0 0 0;cursor:ew-resize}}
#{uid} input[type=range]:focus-visible{{outline:3px solid #0072B2;outline-offset:2px}}
</style>
<div class="swp-box">
<div class="swp-labs" aria-hidden="true"><span class="swp-lab swp-l">&#9664; {ll}</span><span class="swp-lab swp-r">{rl} &#9654;</span></div>
<div class="swp-stage" style="--pos:{start:g}%">
<img class="swp-bottom" src="{_data_uri(right_png)}" alt="{rl}">
<img class="swp-top" src="{_data_uri(left_png)}" alt="{ll}">
<div class="swp-line" aria-hidden="true"></div>
</div>
<input type="range" min="0" max="100" step="1" value="{start:g}" aria-label="{sl}" aria-valuetext="{start:g}%: {ll} | {rl}">
</div>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var stage = root.querySelector(".swp-stage"), range = root.querySelector("input[type=range]");
  function set(v) {{
    stage.style.setProperty("--pos", v + "%");
    range.setAttribute("aria-valuetext", v + "%: " + {_js(left_label)} + " | " + {_js(right_label)});
  }}
  range.addEventListener("input", function () {{ set(range.value); }});
  stage.addEventListener("pointerdown", function (ev) {{
    function move(e) {{
      var r = stage.getBoundingClientRect();
      var v = Math.round(Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1) * 100);
      range.value = v; set(v);
    }}
    move(ev);
    stage.setPointerCapture(ev.pointerId);
    stage.onpointermove = move;
    stage.onpointerup = function () {{ stage.onpointermove = null; }};
  }});
}})();
</script>
</div>"""


def _js(text: str) -> str:
    """A JS string literal that is also safe inside a <script> element."""
    import json

    return json.dumps(str(text)).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
