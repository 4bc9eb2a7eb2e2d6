// Save each answer of the rating page as soon as it is chosen or typed.
// Without this script every section still saves with its own button.
const root = document.getElementById("rating");

if (root) {
  const saveUrl = root.dataset.saveUrl;
  const tokenUrl = root.dataset.tokenUrl;
  let token = root.dataset.csrf;
  const states = new Map(); // item id -> {revision, busy, again, timer}
  const progress = document.getElementById("answered-count");

  const status = (item, text, problem = false) => {
    const el = item.querySelector(".pr-save-status");
    el.textContent = text;
    el.classList.toggle("pr-save-status--problem", problem);
  };

  const valueOf = (item) => {
    const checked = item.querySelector("input[type=radio]:checked");
    return checked ? checked.value : null;
  };

  const textOf = (item, part) =>
    item.querySelector(`textarea[name$="__${part}"]`).value;

  const show = (item, answer) => {
    for (const radio of item.querySelectorAll("input[type=radio]")) {
      radio.checked = radio.value === answer.value;
    }
    item.querySelector('textarea[name$="__comment"]').value = answer.comment || "";
    item.querySelector('textarea[name$="__evidence"]').value = answer.evidence || "";
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
    const response = await fetch(tokenUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.ok) token = (await response.json()).token;
    return response.ok;
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

  const save = async (item, attempt = 0) => {
    const id = item.dataset.item;
    const state = states.get(id);
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    state.again = false;
    status(item, "Saving…");
    const body = {
      item_id: id,
      value: valueOf(item),
      comment: textOf(item, "comment"),
      evidence: textOf(item, "evidence"),
      revision: state.revision,
    };
    let retry = false;
    try {
      const response = await post(body);
      const data = await response.json().catch(() => ({}));
      if (response.ok) {
        state.revision = data.revision;
        item.querySelector('input[name$="__revision"]').value = data.revision;
        state.dirty = false;
        status(item, "Saved");
      } else if (response.status === 409) {
        state.revision = data.current.revision;
        item.querySelector('input[name$="__revision"]').value = state.revision;
        show(item, data.current);
        state.dirty = false;
        state.again = false;
        status(item, data.error, true);
      } else if (response.status === 400 && String(data.error).startsWith("csrf") && attempt < 1) {
        retry = await refreshToken();
      } else if (response.status === 401) {
        status(item, "You have been signed out. Sign in again in another tab, then change this answer again.", true);
      } else {
        status(item, `Not saved: ${data.error || "the answer was refused"}`, true);
        state.dirty = false;
      }
    } catch (error) {
      status(item, "Not saved: the connection was lost. Trying again…", true);
      setTimeout(() => save(item), 3000);
    } finally {
      state.busy = false;
      countAnswered();
    }
    if (retry) return save(item, attempt + 1);
    if (state.again) return save(item);
  };

  for (const item of root.querySelectorAll(".pr-item")) {
    const state = { revision: Number(item.dataset.revision || 0), busy: false, again: false, timer: null, dirty: false };
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
        if (state.dirty) {
          clearTimeout(state.timer);
          save(item);
        }
      });
    }
  }

  // Flask-WTF tokens last an hour; a meeting or a long session lasts longer.
  setInterval(refreshToken, 20 * 60 * 1000);

  window.addEventListener("beforeunload", (event) => {
    for (const state of states.values()) {
      if (state.dirty || state.busy) {
        event.preventDefault();
        return;
      }
    }
  });
}
