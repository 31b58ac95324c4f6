// The out-of-service page brings the working app back by itself: once the technician has fixed the
// cause and the service has restarted, the kiosk shows the app again without anyone tapping the screen.
// The page's own address is asked first and the page reloaded only when the app answers (this page
// again, or the working app): a reload while the service restarts, with nothing listening, would leave
// Chromium's own error page on the screen, which nothing reloads.
"use strict";

const EVERY_MS = 30000;

setInterval(async () => {
  try {
    await fetch(location.href, { cache: "no-store" });
  } catch {
    return; // nothing answers now (the service restarting): the next turn asks again
  }
  location.reload();
}, EVERY_MS);
