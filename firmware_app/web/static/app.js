// The few behaviours the server cannot render: on-screen keypads, the live capture page (verdicts by
// server-sent events, automatic shutter, freeing the camera on leaving). Zooming is zoom.js.
"use strict";

// A picture (the eyes, the body) chooses the same radio button or checkbox as its words, and shows
// what is chosen.
const inputOf = (region) =>
  document.querySelector(`input[name="${region.dataset.input}"][value="${region.dataset.value}"]`);

function showChosen() {
  document.querySelectorAll("[data-input]").forEach((region) =>
    region.classList.toggle("chosen", inputOf(region).checked));
}

// A later step of a form shows what an earlier one typed (data-shows names its field): the patient
// reference over the eyes and the consent, the first operator's name over her PINs, checked there.
function showTyped() {
  document.querySelectorAll("[data-shows]").forEach((shown) => {
    shown.textContent = document.getElementById(shown.dataset.shows).value.trim();
  });
}

document.addEventListener("click", (event) => {
  const region = event.target.closest("[data-input]");
  if (region) {
    const input = inputOf(region);
    input.checked = input.type === "checkbox" ? !input.checked : true;
    showChosen();
    return;
  }
  const step = event.target.closest("[data-step-to]");
  if (step) {
    // A step that needs a field filled (the patient reference), or with at least data-least
    // characters (the first operator's PIN), refuses at once, with why, rather than after the whole
    // form is posted.
    const needed = step.dataset.needs && document.getElementById(step.dataset.needs);
    const refused = Boolean(needed) && needed.value.trim().length < Number(step.dataset.least || 1);
    if (step.dataset.refusal) document.getElementById(step.dataset.refusal).hidden = !refused;
    if (!refused) step.closest("form").dataset.step = step.dataset.stepTo;
    showTyped();
    return;
  }
  const key = event.target.closest("[data-key]");
  if (!key) return;
  const pad = key.closest("[data-keypad]");
  const input = document.getElementById(pad.dataset.keypad);
  const value = key.dataset.key;
  if (value === "back") input.value = input.value.slice(0, -1);
  else if (value === "clear") input.value = "";
  else if (input.value.length < (input.maxLength > 0 ? input.maxLength : 64)) input.value += value;
});

// A photo being used is recorded whatever is tapped next: leaving for Today, locking or switching the
// language meanwhile hid its result. While a post that holds the screen is on its way, the top bar and
// the nav are inert, as hx-disabled-elt disables the screen's own buttons (an inert part stays so while
// the status bar is polled anew, and links cannot be disabled); both come back with the answer, the
// next screen or the failure that says what happened. The post is told by its form, requestConfig.elt:
// once the answer is swapped in, the form is gone and htmx sets event.detail.elt to what is left of it.
function holdScreen(event, held) {
  if (!event.detail.requestConfig.elt.matches("[data-holds-screen]")) return;
  document.querySelectorAll(".topbar, .nav").forEach((part) => { part.inert = held; });
}
document.addEventListener("htmx:beforeRequest", (event) => holdScreen(event, true));
document.addEventListener("htmx:afterRequest", (event) => holdScreen(event, false));

// A request of the screen (aimed at <main>: the shutter, "Use this photo", Retake) that got no
// answer left the nurse with nothing on the screen: the app restarting, a dropped connection, the
// timeout, or an error answer with no screen in it (from outside the app's pages: swapped, it
// emptied the screen). She tapped again, or left thinking it done. The alert says so in the words
// of the request's form (data-no-answer: whether it may have been recorded, what to do) or else the
// default's, nothing recorded, with Try again to load the screen anew; the next request hides it.
// The status bar's poll is no request of hers and tries again by itself: unanswered or answered with
// an error, it keeps the last status bar it had (a plain-text 500 swapped in put "Internal Server
// Error" in the bar) and says nothing.
const ofTheScreen = (event) => event.detail.target?.matches("main") ?? false;

function sayNoAnswer(event) {
  if (!ofTheScreen(event)) return;
  const own = event.detail.requestConfig.elt.closest("[data-no-answer]");
  showNoAnswer(own?.dataset.noAnswer, !own);
}

// The alert with ``sentence`` (else the default's), and Try again (reloading the screen) when asked.
function showNoAnswer(sentence, withRetry) {
  const alert = document.querySelector(".no-answer");
  const retry = alert.querySelector("a");
  retry.hidden = !withRetry;
  retry.href = location.href;
  alert.hidden = false;
  alert.querySelector("p").textContent = sentence ?? alert.dataset.noAnswer;  // once shown: announced
}
document.addEventListener("htmx:sendError", sayNoAnswer);
document.addEventListener("htmx:timeout", sayNoAnswer);
document.addEventListener("htmx:beforeSwap", (event) => {
  const { xhr, shouldSwap, serverResponse } = event.detail;
  if (!shouldSwap || xhr.status < 400) return;
  const screen = ofTheScreen(event) && new DOMParser().parseFromString(serverResponse, "text/html").querySelector("main");
  if (screen) return;  // the app's own, saying what happened
  event.detail.shouldSwap = false;
  sayNoAnswer(event);
});
// The alert's end: any request of the screen (aimed at <main>) hides it. A listener of its own, not
// holdScreen's: that one is the recording posts' (data-holds-screen) and ends with htmx:afterRequest.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (ofTheScreen(event)) document.querySelector(".no-answer").hidden = true;
});

function startCapture(page) {
  const token = page.dataset.token;
  const guidance = document.getElementById("guidance");
  const shoot = document.getElementById("shoot");
  const auto = document.getElementById("auto");
  // Kept, not looked up again: once the check screen is swapped in, "working" is gone from the page.
  const working = document.getElementById("working");
  let shot = false;
  const events = new EventSource("/capture/events?token=" + encodeURIComponent(token));
  // The verdict stream says something every second at least (pages_capture.BEAT_S). Silent longer
  // (data-silent-after), the app is stopped, restarting or hung: the picture is its last frame, frozen,
  // under a verdict of then. It says so (the default no-answer alert), the picture dimmed, no verdict,
  // the shutter held. The first word from the app again reloads the screen: a stream that broke does
  // not come back by itself, nor a lease that lapsed meanwhile (a restart's reload leads to sign-in).
  let silent = false;
  let watch;
  const listen = () => {
    clearTimeout(watch);
    watch = setTimeout(notAnswering, Number(page.dataset.silentAfter));
  };
  const notAnswering = () => {
    silent = true;
    page.classList.add("silent");
    guidance.dataset.verdict = "";
    guidance.replaceChildren();
    shoot.querySelector("button").disabled = true;
    auto.disabled = true;
    showNoAnswer(null, true);
  };
  const answers = () => (silent ? location.reload() : listen());
  for (const name of ["open", "verdict", "beat", "camera"]) events.addEventListener(name, answers);
  listen();
  // The shutter is an htmx post (hx-sync drops a second one) answered with the check screen: the
  // verdict stream ends with this screen, or it would reconnect once the camera is handed over.
  const take = () => { if (!shot) shoot.requestSubmit(); };
  shoot.addEventListener("htmx:beforeRequest", () => {
    shot = true;
    events.close();
    clearTimeout(watch);
    working.hidden = false;
    shoot.querySelector("button").disabled = true;
  });
  // Unanswered, the screen stays (sayNoAnswer): no longer at work, its shutter waits for Try again.
  shoot.addEventListener("htmx:afterRequest", () => { working.hidden = true; });
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
  // Ticked while the picture already passes: no new verdict may come (it did not change), so shoot now.
  auto.addEventListener("change", () => {
    if (auto.checked && guidance.dataset.verdict && guidance.dataset.verdict !== "reject") take();
  });
  events.addEventListener("camera", (message) => {
    guidance.dataset.verdict = "reject";
    guidance.textContent = JSON.parse(message.data).error;
  });
  // This session opened the capture screen again elsewhere (another tab): that screen has the camera.
  events.addEventListener("lost", (message) => {
    events.close();
    clearTimeout(watch);
    guidance.dataset.verdict = "reject";
    guidance.textContent = JSON.parse(message.data).error;
    auto.checked = false;
  });
  releaseOnLeaving(events, () => shot);
}

// A closed or left screen gives the camera back at once instead of after the lease lapses.
function releaseOnLeaving(events, handedOver) {
  window.addEventListener("pagehide", () => {
    events.close();
    if (!handedOver()) navigator.sendBeacon("/capture/release", new FormData(document.getElementById("release")));
  });
}

function startScan(page) {
  let found = false;
  const events = new EventSource("/patient/scan/events?token=" + encodeURIComponent(page.dataset.scanToken));
  events.addEventListener("found", () => { found = true; events.close(); location.href = "/patient"; });
  releaseOnLeaving(events, () => found);
}

// The language switch reloads the page: a form half filled (the patient's: the reference typed on the
// keypad, what is screened, the eyes or the body site; the first operator's: the name; the sign-in's:
// the name typed on the network, or tapped at the device; the hand-out's: its reference ticked) goes with its post, its fields named in data-draft, with its step and its action, and the
// form comes back as it was left, in the other language (pages_session.drafted). What it does not name
// stays behind: the consent, asked again in the patient's language, and the PINs, a secret never kept
// for a reload.
document.addEventListener("submit", (event) => {
  const draft = document.querySelector("form[data-draft]");
  if (!draft || !event.target.matches("form[action='/language']")) return;
  const named = draft.dataset.draft.split(" ");
  const kept = [...new FormData(draft)].filter(([name]) => named.includes(name));
  for (const [name, value] of [...kept, ["step", draft.dataset.step], ["form", draft.getAttribute("action")]]) {
    event.target.append(Object.assign(document.createElement("input"), { type: "hidden", name: `draft.${name}`, value }));
  }
});

// "Export photo" answers with the file: the page stays, and a kiosk's browser shows no download. Once
// the browser has it (the answer's cookie, pages_records.EXPORTED, named after the result), the line
// under the search says so in the page's language (data-exported): never before, and not when the
// answer is a page (a photo no longer kept), which replaces this one.
const EXPORTED = "edgescreen_exported";
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form[data-exported]")) return;
  const line = document.querySelector("[data-test=exported]");
  line.hidden = true;
  const expected = `${EXPORTED}=${form.elements.result_id.value}`;
  const watch = setInterval(() => {
    if (!document.cookie.split("; ").includes(expected)) return;
    clearInterval(watch);
    document.cookie = `${EXPORTED}=; path=/records; max-age=0; samesite=strict`;
    line.textContent = form.dataset.exported;
    line.hidden = false;
  }, 100);
  setTimeout(() => clearInterval(watch), 60_000);
});

document.addEventListener("change", showChosen);

// A search's answer is shown in the keypad's place (records.html): a tap on the field marked
// data-typing-on-tap brings the keypad back, and puts the answer away while she types (app.css).
document.addEventListener("click", (event) => {
  if (event.target.matches("[data-typing-on-tap]")) event.target.closest("main").dataset.typing = "";
});

// The handout's controls, wired here: the app's pages run no inline script (web/headers.py). A
// checkbox marked data-submits posts its form as soon as it changes; a button marked data-prints prints.
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-submits]")) event.target.form.submit();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-prints]")) window.print();
});

// Ready's count of the checks to see to (ready.html) is said on its first screen when their list runs
// past the screen's foot: every check red or amber in its longest words takes several screens, each
// read whole by the technician, so the list scrolls and says so. Measured with the line put away, at a
// resize of the window and whenever the page changes size without one (a banner swapped into the top
// bar later by htmx): measured at load and resize only, a page grown since ran on with it unsaid. The
// measure waits for the next frame: made inside the observer's callback, the line's own showing would
// resize the page it observes there, which Chromium reports as an error (a loop of notifications).
function sayWhenScrolls() {
  document.querySelectorAll("[data-said-when-scrolling]").forEach((line) => {
    line.hidden = true;
    line.hidden = document.documentElement.scrollHeight <= window.innerHeight;
  });
}
window.addEventListener("resize", sayWhenScrolls);

document.addEventListener("DOMContentLoaded", () => {
  showChosen();
  sayWhenScrolls();
  if (document.querySelector("[data-said-when-scrolling]")) {
    new ResizeObserver(() => requestAnimationFrame(sayWhenScrolls)).observe(document.body);
  }
  const page = document.querySelector(".capture[data-token]");
  if (page) startCapture(page);
  const scan = document.querySelector("[data-scan-token]");
  if (scan) startScan(scan);
});
