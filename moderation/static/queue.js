// The moderation queue without page reloads: every decision form is sent in the background and
// the item is updated in place; focus moves to the next comment. Without this script every form
// still posts and the page reloads, so nothing here is needed to moderate.
"use strict";

(function () {
  const list = document.getElementById("queue-list");
  const statusBox = document.getElementById("queue-status");
  if (!list || !statusBox || !window.fetch) { return; }
  const currentTab = (document.querySelector(".tabs [aria-current]") || {dataset: {}}).dataset.tab || "pending";
  const removed = new Map();  // comment id -> id of the item that followed it, to put it back on undo
  let lastDecision = null;    // {id, decision, undoUrl, action}: what "u" and the Undo button undo

  function items() { return Array.from(list.querySelectorAll(".queue-item")); }
  function csrfToken() {
    const field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function say(message, isError) {
    statusBox.textContent = "";
    statusBox.classList.toggle("error", Boolean(isError));
    const text = document.createElement("span");
    text.textContent = message + " ";
    statusBox.appendChild(text);
    if (!isError && lastDecision) {
      const undo = document.createElement("button");
      undo.type = "button";
      undo.className = "undo";
      undo.textContent = lastDecision.action === "approve" ? "Undo approval" : "Undo rejection";
      undo.addEventListener("click", undoLast);
      statusBox.appendChild(undo);
    }
  }

  function updateCounts(counts) {
    if (!counts) { return; }
    let total = 0;
    Object.keys(counts).forEach(function (status) { total += counts[status]; });
    document.querySelectorAll(".tabs [data-tab]").forEach(function (tab) {
      const status = tab.dataset.tab;
      const count = status === "all" ? total : counts[status];
      if (count !== undefined) {
        tab.textContent = status.charAt(0).toUpperCase() + status.slice(1) + " (" + count + ")";
      }
    });
  }

  function belongsHere(status) { return currentTab === "all" || currentTab === status; }

  function place(comment) {
    const existing = document.getElementById("comment-" + comment.id);
    const holder = document.createElement("template");
    holder.innerHTML = comment.html.trim();
    const fresh = holder.content.firstElementChild;
    if (window.siteLocalTimes) { window.siteLocalTimes(fresh); }
    if (existing && belongsHere(comment.status)) { existing.replaceWith(fresh); return fresh; }
    if (existing) {
      const next = existing.nextElementSibling;
      removed.set(comment.id, next ? next.id : null);
      existing.remove();
      return next;
    }
    if (belongsHere(comment.status)) {  // back from an undo: where it was
      const before = removed.has(comment.id) ? document.getElementById(removed.get(comment.id)) : null;
      list.insertBefore(fresh, before);
      removed.delete(comment.id);
      return fresh;
    }
    return null;
  }

  function showEmpty() {
    const empty = list.querySelector(".empty");
    if (items().length === 0 && !empty) {
      const note = document.createElement("li");
      note.className = "empty";
      note.tabIndex = -1;
      note.textContent = "Nothing left on this page. Reload for more.";
      list.appendChild(note);
    } else if (items().length && empty) {
      empty.remove();
    }
  }

  function focusAfter(target, fallbackIndex) {
    let next = target && target.classList && target.classList.contains("queue-item") ? target : null;
    if (!next) {
      const all = items();
      next = all[Math.min(fallbackIndex, all.length - 1)] || list.querySelector(".empty");
    }
    if (next) { next.focus(); }
    syncSelectAll();
    return next;
  }

  function apply(result, focusIndex, keepUndo) {
    updateCounts(result.counts);
    let target = null;
    (result.comments || []).forEach(function (comment) {
      target = place(comment) || target;
    });
    showEmpty();
    const single = result.comments && result.comments.length === 1 ? result.comments[0] : null;
    if (!keepUndo) {
      lastDecision = single && single.decision ? {id: single.id, decision: single.decision,
                                                  undoUrl: single.undo_url, action: single.action} : null;
    }
    say(result.message, !result.ok);
    return focusAfter(target, focusIndex);
  }

  // The filters being viewed travel with every request, so the tab counts that come back match them.
  function withFilters(data) {
    const bulk = document.getElementById("bulk-form");
    if (!bulk) { return data; }
    bulk.querySelectorAll("input[type=hidden]:not([name=csrf_token])").forEach(function (field) {
      if (!data.has(field.name)) { data.append(field.name, field.value); }
    });
    return data;
  }

  async function send(url, data) {
    withFilters(data);
    let response;
    try {
      response = await fetch(url, {method: "POST", body: data, credentials: "same-origin",
                                   headers: {"Accept": "application/json"}});
    } catch (error) {
      say("The server could not be reached; nothing was changed. Try again.", true);
      return null;
    }
    const result = await response.json().catch(function () { return null; });
    if (!response.ok || !result) {
      say((result && result.error) || "That did not work (" + response.status + "). Reload the page.", true);
      return null;
    }
    return result;
  }

  function indexOf(node) { return Math.max(0, items().indexOf(node)); }

  async function submitDecision(form, submitter) {
    const item = form.closest(".queue-item");
    const index = item ? indexOf(item) : 0;
    const data = new FormData(form, submitter || undefined);
    const result = await send(form.getAttribute("action"), data);  // form.action may be a button named "action"
    if (result) { apply(result, index, form.hasAttribute("data-labels")); }
    return result;
  }

  async function undoLast() {
    if (!lastDecision) { say("There is no decision to undo.", true); return; }
    const data = new FormData();
    data.append("csrf_token", csrfToken());
    data.append("decision", lastDecision.decision);
    const item = document.getElementById("comment-" + lastDecision.id);
    const result = await send(lastDecision.undoUrl, data);
    if (!result) { return; }
    apply(result, item ? indexOf(item) : 0);
    lastDecision = null;
    const back = result.comments && result.comments[0] && document.getElementById("comment-" + result.comments[0].id);
    if (back) { back.focus(); }
  }

  // Select all on this page: a checkbox that only exists when this script runs.
  const selectAll = document.getElementById("select-all");
  function boxes() { return Array.from(list.querySelectorAll("input[name=ids]")); }
  function syncSelectAll() {
    if (!selectAll) { return; }
    const all = boxes();
    const ticked = all.filter(function (box) { return box.checked; }).length;
    selectAll.checked = all.length > 0 && ticked === all.length;
    selectAll.indeterminate = ticked > 0 && ticked < all.length;
  }
  if (selectAll) {
    selectAll.closest("label").hidden = false;
    selectAll.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = selectAll.checked; });
    });
    list.addEventListener("change", function (event) {
      if (event.target.name === "ids") { syncSelectAll(); }
    });
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.hasAttribute("data-decide")) { return; }
    event.preventDefault();
    submitDecision(form, event.submitter);
  });

  // The keyboard: j/k move, a approve, r reject with a reason, u undo, x select, ? the list.
  const picker = document.getElementById("reason-picker");
  const help = document.getElementById("shortcuts");
  const typing = "input[type=text], input[type=search], input[type=email], input:not([type]), select, textarea";

  function currentItem() {
    const active = document.activeElement;
    return active && active.closest ? active.closest(".queue-item") : null;
  }

  function move(step) {
    const all = items();
    if (!all.length) { return; }
    const current = currentItem();
    const index = current ? Math.max(0, Math.min(all.length - 1, all.indexOf(current) + step)) : 0;
    all[index].focus();
  }

  function approve(item) {
    const form = item.querySelector(".approve-form");
    if (form) { submitDecision(form); } else { say("This comment is already approved.", true); }
  }

  function author(item) {
    const name = item.querySelector(".author");
    return name ? name.textContent : "";
  }

  function reject(item) {
    if (!item.querySelector(".reject-form")) { say("This comment is already rejected.", true); return; }
    picker.dataset.item = item.id;
    document.getElementById("reason-picker-about").textContent = "the comment by " + author(item);
    document.getElementById("picked-note").value = "";
    picker.returnValue = "";
    picker.showModal();
    const chosen = picker.querySelector("input[name=picked-reason]:checked");
    if (chosen) { chosen.focus(); }
  }

  function rejectWithPickedReason() {
    const item = document.getElementById(picker.dataset.item || "");
    if (!item) { return; }
    if (picker.returnValue !== "reject") { item.focus(); return; }
    const form = item.querySelector(".reject-form");
    const chosen = picker.querySelector("input[name=picked-reason]:checked");
    form.querySelector("select[name=reason]").value = chosen ? chosen.value : "";
    form.querySelector("input[name=note]").value = document.getElementById("picked-note").value;
    submitDecision(form);
  }

  function toggleSelected(item) {
    const box = item.querySelector("input[name=ids]");
    if (box) { box.checked = !box.checked; syncSelectAll(); }
  }

  function pickByNumber(event) {
    const radios = Array.from(picker.querySelectorAll("input[name=picked-reason]"));
    const number = parseInt(event.key, 10);
    if (number >= 1 && number <= radios.length && !event.target.matches("input[type=text]")) {
      radios[number - 1].checked = true;
      radios[number - 1].focus();
      event.preventDefault();
    }
  }

  if (picker && help) {
    document.querySelectorAll(".keyboard-hint").forEach(function (hint) { hint.hidden = false; });
    picker.addEventListener("close", rejectWithPickedReason);
    picker.addEventListener("keydown", pickByNumber);
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || picker.open || help.open) { return; }
      if (event.target.matches && event.target.matches(typing)) { return; }
      const item = currentItem();
      const actions = {
        j: function () { move(1); },
        k: function () { move(-1); },
        a: function () { if (item) { approve(item); } },
        r: function () { if (item) { reject(item); } },
        u: undoLast,
        x: function () { if (item) { toggleSelected(item); } },
        "?": function () { help.showModal(); },
      };
      const action = actions[event.key];
      if (!action) { return; }
      event.preventDefault();
      if (!item && "arx".indexOf(event.key) >= 0) { say("Press j to choose a comment first.", true); return; }
      action();
    });
  }

  window.moderationQueue = {items: items, submitDecision: submitDecision, undoLast: undoLast, say: say,
                            syncSelectAll: syncSelectAll};
})();
