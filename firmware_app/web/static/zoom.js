// Tap and pinch to zoom on the photo being checked (.zoomable), and drag to look around it: touch
// events and a CSS transform, no library. The first zoom swaps in the full-size photo (data-full).
// Handlers sit on the document, so a screen swapped in by htmx needs no setting up.
"use strict";
(() => {
  const TAP_SCALE = 2.5;
  const MAX_SCALE = 6;
  let view = null; // the zoomed photo: its box, scale and offset (in the box's pixels)
  let gesture = null; // the pinch or drag in progress, from where it started

  const viewOf = (box) => {
    if (!view || view.box !== box) view = { box, photo: box.querySelector("img"), scale: 1, x: 0, y: 0 };
    return view;
  };

  const show = (v) => {
    const width = v.box.clientWidth;
    const height = v.box.clientHeight;
    v.x = Math.min(0, Math.max(width - width * v.scale, v.x)); // never past the photo's edges
    v.y = Math.min(0, Math.max(height - height * v.scale, v.y));
    if (v.scale > 1 && v.photo.dataset.full) {
      v.photo.src = v.photo.dataset.full;
      delete v.photo.dataset.full;
    }
    v.photo.style.transform = `translate(${v.x}px, ${v.y}px) scale(${v.scale})`;
    v.box.classList.toggle("zoomed", v.scale > 1);
    v.box.dataset.scale = v.scale.toFixed(2);
  };

  // Scale to ``scale`` keeping the point (x, y) of the box where it is.
  const zoomAt = (v, scale, x, y) => {
    const next = Math.min(MAX_SCALE, Math.max(1, scale));
    v.x = x - ((x - v.x) * next) / v.scale;
    v.y = y - ((y - v.y) * next) / v.scale;
    v.scale = next;
    show(v);
  };

  const pointsIn = (box, touches) => {
    const rect = box.getBoundingClientRect();
    return [...touches].map((touch) => [touch.clientX - rect.left, touch.clientY - rect.top]);
  };

  const start = (box, touches) => {
    const v = viewOf(box);
    const [a, b] = pointsIn(box, touches);
    gesture = { v, scale: v.scale, x: v.x, y: v.y, at: b ? [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] : a };
    gesture.spread = b ? Math.hypot(a[0] - b[0], a[1] - b[1]) : 0;
  };

  document.addEventListener("touchstart", (event) => {
    const box = event.target.closest(".zoomable");
    if (box) start(box, event.touches);
  }, { passive: true });

  document.addEventListener("touchmove", (event) => {
    if (!gesture) return;
    event.preventDefault(); // the photo moves, not the page
    const { v } = gesture;
    const [a, b] = pointsIn(v.box, event.touches);
    Object.assign(v, { scale: gesture.scale, x: gesture.x, y: gesture.y });
    if (b && gesture.spread) {
      const middle = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
      zoomAt(v, (gesture.scale * Math.hypot(a[0] - b[0], a[1] - b[1])) / gesture.spread, ...gesture.at);
      v.x += middle[0] - gesture.at[0];
      v.y += middle[1] - gesture.at[1];
    } else {
      v.x += a[0] - gesture.at[0];
      v.y += a[1] - gesture.at[1];
    }
    show(v);
  }, { passive: false });

  document.addEventListener("touchend", (event) => {
    if (!gesture) return;
    if (event.touches.length) start(gesture.v.box, event.touches); // one finger left: it drags on
    else gesture = null;
  });

  document.addEventListener("click", (event) => {
    const box = event.target.closest(".zoomable");
    if (!box) return;
    const v = viewOf(box);
    const [[x, y]] = pointsIn(box, [event]);
    zoomAt(v, v.scale > 1 ? 1 : TAP_SCALE, x, y);
  });
})();
