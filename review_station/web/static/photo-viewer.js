// Zoom and pan for the shared photo on the result page, and the fundus views (colour, green channel,
// contrast). The photo starts fitted to its frame; the wheel zooms about the pointer, a drag pans, and
// so do the keys when the frame has the focus.
(function () {
  const photo = document.getElementById("shared-photo");
  if (!photo || photo.dataset.ready) return;
  photo.dataset.ready = "1";
  const frame = photo.parentElement;
  let scale = 1, x = 0, y = 0, drag = null;

  function show() { photo.style.transform = `translate(${x}px, ${y}px) scale(${scale})`; }
  function fit() {
    const width = photo.naturalWidth || 1, height = photo.naturalHeight || 1;
    scale = Math.min(frame.clientWidth / width, frame.clientHeight / height);
    x = (frame.clientWidth - width * scale) / 2;
    y = (frame.clientHeight - height * scale) / 2;
    show();
  }
  function zoom(factor, atX, atY) {
    const next = Math.min(Math.max(scale * factor, 0.05), 20);
    x = atX - (atX - x) * (next / scale);
    y = atY - (atY - y) * (next / scale);
    scale = next;
    show();
  }

  photo.addEventListener("load", () => { if (!photo.dataset.fitted) { photo.dataset.fitted = "1"; fit(); } });
  if (photo.complete) { photo.dataset.fitted = "1"; fit(); }
  frame.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = frame.getBoundingClientRect();
    zoom(event.deltaY < 0 ? 1.2 : 1 / 1.2, event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });
  frame.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX - x, y: event.clientY - y };
    frame.setPointerCapture(event.pointerId);
  });
  frame.addEventListener("pointermove", (event) => {
    if (!drag) return;
    x = event.clientX - drag.x;
    y = event.clientY - drag.y;
    show();
  });
  frame.addEventListener("pointerup", () => { drag = null; });
  // By keyboard (the frame takes the focus): the arrow keys move the photo a tenth of the frame, as far
  // as a drag would, so a reader without a mouse reaches every part of a zoomed photo; + and - zoom.
  const steps = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  frame.addEventListener("keydown", (event) => {
    if (event.key in steps) {
      const [across, down] = steps[event.key];
      x += across * frame.clientWidth / 10;
      y += down * frame.clientHeight / 10;
      show();
    } else if (event.key === "+" || event.key === "-") {
      zoom(event.key === "+" ? 1.5 : 1 / 1.5, frame.clientWidth / 2, frame.clientHeight / 2);
    } else return;
    event.preventDefault();
  });
  document.querySelectorAll("[data-zoom]").forEach((button) => button.addEventListener("click", () => {
    const action = button.dataset.zoom;
    if (action === "fit") fit(); else zoom(action === "in" ? 1.5 : 1 / 1.5, frame.clientWidth / 2, frame.clientHeight / 2);
  }));
  document.querySelectorAll("[data-view]").forEach((button) => button.addEventListener("click", () => {
    document.querySelectorAll("[data-view]").forEach((other) => other.setAttribute("aria-pressed", String(other === button)));
    photo.src = `${photo.dataset.base}?view=${button.dataset.view}`;
  }));
})();
