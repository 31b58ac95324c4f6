// A read being written outlives the reader's session: its fields are kept in this tab (sessionStorage,
// gone with the tab) as they are chosen and typed, and put back when the result's page shows the same
// form again, after the sign-in the session's end led to (the page a reader signs in from is the one
// they were on). A draft is for the reads the page showed when it was begun (``data-reads``): once a read
// is recorded, by this reader or another, it is dropped, never put into a form it was not written for.
// Signing out is the reader leaving the read: their drafts in this tab go then, and only theirs (a
// colleague's, kept when their session ended at this desk, waits for them); a session that ends keeps them.
(function () {
  // The reader's own: on a shared computer, whoever signs in next in this tab never gets it in their form.
  const drafts = (reader) => `read-draft:${reader}:`;

  const signOut = document.getElementById("sign-out");
  if (signOut) {
    signOut.addEventListener("submit", () => {
      const theirs = drafts(signOut.dataset.reader);
      for (const key of Object.keys(sessionStorage)) if (key.startsWith(theirs)) sessionStorage.removeItem(key);
    });
  }

  const form = document.getElementById("read-form");
  if (!form || form.dataset.draft) return;
  form.dataset.draft = "1";
  const key = drafts(form.dataset.reader) + form.dataset.result, reads = form.dataset.reads;
  const fields = () => Array.from(form.elements).filter((field) => field.name && field.type !== "hidden");

  const kept = JSON.parse(sessionStorage.getItem(key) || "null");
  if (kept && kept.reads !== reads) sessionStorage.removeItem(key);
  // A form the server filled (a refused read, shown again to correct) keeps what the server sent.
  else if (kept && !("entered" in form.dataset)) {
    for (const field of fields()) if (field.name in kept.values) field.value = kept.values[field.name];
  }

  function keep() {
    const values = Object.fromEntries(fields().map((field) => [field.name, field.value]));
    sessionStorage.setItem(key, JSON.stringify({ reads, values }));
  }
  form.addEventListener("input", keep);
  form.addEventListener("change", keep);
})();
