// Save each answer of the rating page as soon as it is chosen or typed.
// Without this script every section still saves with its own button.
//
// A save that fails on the way (no connection, or the server answering 5xx)
// is tried again with growing waits, 1 s up to 30 s, and at once when the
// browser comes back online. Meanwhile the answer stays on the page, its
// status says "Not saved yet", and closing the tab asks first. A retry of a
// save the server did write (only its reply was lost) is answered "saved":
// the server compares the answer, not just the revision.
const root = document.getElementById("rating");

if (root) {
  const saveUrl = root.dataset.saveUrl;
  const tokenUrl = root.dataset.tokenUrl;
  let token = root.dataset.csrf;
  const states = new Map(); // item id -> state (see track())
  const progress = document.getElementById("answered-count");
  const FIRST_WAIT = 1000;
  const LONGEST_WAIT = 30000;

  const status = (item, text, problem = false) => {
    const el = item.querySelector(".pr-save-status");
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle("pr-save-status--problem", problem);
  };

  const valueOf = (item) => {
    const checked = item.querySelector("input[type=radio]:checked");
    return checked ? checked.value : null;
  };

  const textOf = (item, part) =>
    item.querySelector(`textarea[name$="__${part}"]`).value;

  const answerOf = (item) => ({
    value: valueOf(item),
    comment: textOf(item, "comment"),
    evidence: textOf(item, "evidence"),
  });

  const same = (a, b) =>
    a.value === b.value && a.comment === b.comment && a.evidence === b.evidence;

  const show = (item, answer) => {
    for (const radio of item.querySelectorAll("input[type=radio]")) {
      radio.checked = radio.value === answer.value;
    }
    item.querySelector('textarea[name$="__comment"]').value = answer.comment || "";
    item.querySelector('textarea[name$="__evidence"]').value = answer.evidence || "";
  };

  const setRevision = (item, state, revision) => {
    state.revision = revision;
    item.querySelector('input[name$="__revision"]').value = revision;
  };

  const countAnswered = () => {
    if (!progress) return;
    let n = 0;
    for (const item of root.querySelectorAll(".pr-item")) {
      if (valueOf(item)) n += 1;
    }
    progress.textContent = String(n);
  };

  const refreshToken = async () => {
    try {
      const response = await fetch(tokenUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) token = (await response.json()).token;
      return response.ok;
    } catch {
      return false;
    }
  };

  const post = (body) =>
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": token,
      },
      body: JSON.stringify(body),
    });

  const seconds = (ms) => {
    const n = Math.round(ms / 1000);
    return n === 1 ? "1 second" : `${n} seconds`;
  };

  // A save that did not arrive: keep the answer, say so, try again later.
  const later = (item, state, why) => {
    const wait = Math.min(FIRST_WAIT * 2 ** state.failures, LONGEST_WAIT);
    state.failures += 1;
    status(item, `Not saved yet: ${why}. Your answer is kept here; trying again in ${seconds(wait)}.`, true);
    clearTimeout(state.retry);
    state.retry = setTimeout(() => save(item), wait);
  };

  const save = async (item, csrfRetried = false) => {
    const state = states.get(item.dataset.item);
    if (state.busy) {
      state.again = true;
      return;
    }
    clearTimeout(state.retry);
    state.retry = null;
    state.busy = true;
    state.again = false;
    status(item, "Saving…");
    const sent = answerOf(item);
    let next = null; // what to do once this save is over
    try {
      const response = await post({ item_id: item.dataset.item, ...sent, revision: state.revision });
      const data = await response.json().catch(() => ({}));
      if (response.ok) {
        state.failures = 0;
        setRevision(item, state, data.revision);
        if (same(sent, answerOf(item))) {
          state.dirty = false;
          status(item, "Saved");
        } else {
          next = "save"; // changed while this one was on its way
        }
      } else if (response.status === 409) {
        state.failures = 0;
        setRevision(item, state, data.current.revision);
        show(item, data.current);
        state.dirty = false;
        state.again = false;
        status(item, data.error, true);
      } else if (response.status === 400 && String(data.error).startsWith("csrf") && !csrfRetried) {
        next = (await refreshToken()) ? "csrf" : null;
        if (!next) later(item, state, "the page could not be renewed");
      } else if (response.status === 401) {
        status(item, "Not saved yet: you have been signed out. Sign in again in another tab, then change this answer again.", true);
      } else if (response.status >= 500 || response.status === 408 || response.status === 429) {
        later(item, state, "the server could not take it just now");
      } else {
        status(item, `Not saved: ${data.error || "the answer was refused"}`, true);
        state.dirty = false;
      }
    } catch {
      later(item, state, "the connection was lost");
    } finally {
      state.busy = false;
      countAnswered();
    }
    if (next === "csrf") return save(item, true);
    if (next === "save" || (state.again && !state.retry)) return save(item);
  };

  const track = (item) => {
    const state = {
      revision: Number(item.dataset.revision || 0),
      busy: false, // a save is on its way
      again: false, // the answer changed while it was
      dirty: false, // the page holds an answer the server does not have yet
      failures: 0, // failed tries in a row, for the back-off
      retry: null, // the timer of the next try
      timer: null, // the typing pause before a save
    };
    states.set(item.dataset.item, state);
    for (const radio of item.querySelectorAll("input[type=radio]")) {
      radio.addEventListener("change", () => {
        state.dirty = true;
        save(item);
      });
    }
    for (const area of item.querySelectorAll("textarea")) {
      area.addEventListener("input", () => {
        state.dirty = true;
        clearTimeout(state.timer);
        state.timer = setTimeout(() => save(item), 800);
      });
      area.addEventListener("blur", () => {
        if (state.dirty && !state.retry) {
          clearTimeout(state.timer);
          save(item);
        }
      });
    }
  };

  for (const item of root.querySelectorAll(".pr-item")) track(item);

  // Back online: try every waiting save now rather than at its timer.
  window.addEventListener("online", () => {
    for (const item of root.querySelectorAll(".pr-item")) {
      const state = states.get(item.dataset.item);
      if (state.retry) save(item);
    }
  });

  // Flask-WTF tokens last an hour; a meeting or a long session lasts longer.
  setInterval(refreshToken, 20 * 60 * 1000);

  window.addEventListener("beforeunload", (event) => {
    for (const state of states.values()) {
      if (state.dirty || state.busy) {
        event.preventDefault();
        event.returnValue = ""; // older browsers ask only when this is set
        return;
      }
    }
  });
}
