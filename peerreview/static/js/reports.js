// Report status page: poll the render's state and offer the file when ready.
// Without JavaScript the "Check again" button does the same by hand.
const box = document.querySelector("[data-report-status]");

if (box) {
  const url = box.dataset.reportStatus;
  const text = box.querySelector("[data-report-state]");
  let tries = 0;

  const poll = async () => {
    tries += 1;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        if (data.state === "ready" || data.state === "failed" || data.state === "lost" || data.state === "none") {
          window.location.reload();
          return;
        }
        text.textContent = data.state === "rendering" ? "Rendering the PDF…" : "Waiting for the render worker…";
      }
    } catch (error) {
      // A dropped connection: keep polling, the button still works.
    }
    if (tries < 120) {
      window.setTimeout(poll, tries < 10 ? 1000 : 3000);
    }
  };
  window.setTimeout(poll, 800);
}
