// The few behaviours the server cannot render: on-screen keypads, the live capture page (verdicts by
// server-sent events, automatic shutter, freeing the camera on leaving), tap to zoom, "working" notes.
"use strict";

document.addEventListener("click", (event) => {
  const key = event.target.closest("[data-key]");
  if (!key) return;
  const pad = key.closest("[data-keypad]");
  const input = document.getElementById(pad.dataset.keypad);
  const value = key.dataset.key;
  if (value === "back") input.value = input.value.slice(0, -1);
  else if (value === "clear") input.value = "";
  else if (input.value.length < (input.maxLength > 0 ? input.maxLength : 64)) input.value += value;
});

function startCapture(page) {
  const token = page.dataset.token;
  const guidance = document.getElementById("guidance");
  const shoot = document.getElementById("shoot");
  const auto = document.getElementById("auto");
  let shot = false;
  const take = () => {
    if (shot) return;
    shot = true;
    document.getElementById("working").hidden = false;
    shoot.querySelector("button").disabled = true;
    shoot.submit();
  };
  shoot.addEventListener("submit", (event) => { event.preventDefault(); take(); });
  const events = new EventSource("/capture/events?token=" + encodeURIComponent(token));
  events.addEventListener("verdict", (message) => {
    const verdict = JSON.parse(message.data);
    guidance.dataset.verdict = verdict.verdict;
    guidance.dataset.seq = verdict.seq;
    guidance.replaceChildren(...verdict.lines.map((line) => {
      const item = document.createElement("div");
      item.textContent = line;
      return item;
    }));
    if (auto.checked && verdict.verdict !== "reject") take();
  });
  events.addEventListener("camera", (message) => {
    guidance.dataset.verdict = "reject";
    guidance.textContent = JSON.parse(message.data).error;
  });
  window.addEventListener("pagehide", () => {
    events.close();
    if (!shot) navigator.sendBeacon("/capture/release", new FormData(document.getElementById("release")));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.querySelector(".capture[data-token]");
  if (page) startCapture(page);
  const zoom = document.getElementById("zoom");
  if (zoom) zoom.addEventListener("click", () => {
    const photo = zoom.querySelector("img");
    if (photo.dataset.full) { photo.src = photo.dataset.full; delete photo.dataset.full; }
    zoom.classList.toggle("zoomed");
  });
  document.querySelectorAll("form[data-working]").forEach((form) =>
    form.addEventListener("submit", () => form.querySelector("button").disabled = true));
});
