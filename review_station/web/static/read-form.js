// A "no referral" refers no one, and the device shows no urgency beside it: its urgency is
// routine (``verdicts.ReadForm.checked`` refuses any other, which is all a page without JavaScript
// gets). Here the form says so as the verdict is chosen: routine, the other urgencies not offered.
(function () {
  const form = document.getElementById("read-form");
  if (!form || form.dataset.ready) return;
  form.dataset.ready = "1";
  const verdict = form.elements.verdict, urgency = form.elements.urgency;

  function follow() {
    const noRefer = verdict.value === "no_refer";
    if (noRefer) urgency.value = "routine";
    for (const option of urgency.options) option.disabled = noRefer && option.value !== "routine";
  }
  verdict.addEventListener("change", follow);
  follow();
})();
