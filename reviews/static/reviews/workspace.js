// Reviewer workspace behaviour: lease countdown, time spent, verdict-dependent
// fields, the turn or candidate pick, a live word-level diff of the rewrite,
// and keyboard shortcuts.
// Plain ES2017 without a build step. Every AI text goes into the page through
// textContent, never innerHTML.
(function () {
  "use strict";

  // Above this many token comparisons the diff would freeze the page, so it is not drawn.
  var MAX_DIFF_CELLS = 4000000;

  function startLeaseCountdown(element) {
    var expiresAt = Date.parse(element.getAttribute("data-expires"));
    function tick() {
      var seconds = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
      if (seconds === 0) {
        element.textContent = "Lease expired: submit fails; claim the item again.";
        element.classList.add("lease-low");
        return;
      }
      var minutes = Math.floor(seconds / 60);
      var rest = String(seconds % 60).padStart(2, "0");
      element.textContent = minutes + ":" + rest + " left on your lease";
      element.classList.toggle("lease-low", seconds < 120);
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  function trackTimeSpent(form) {
    // Add the seconds this page was open to what earlier attempts carried over.
    var field = form.querySelector("input[name=time_spent_seconds]");
    if (!field) return;
    var carried = parseInt(field.value, 10) || 0;
    var renderedAt = Date.now();
    form.addEventListener("submit", function () {
      field.value = carried + Math.round((Date.now() - renderedAt) / 1000);
    });
  }

  function tokenize(text) {
    return text.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) || [];
  }

  // Return [op, token] pairs, op being "=", "-" or "+", from a longest common subsequence.
  function diffTokens(before, after) {
    var start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start++;
    var endBefore = before.length, endAfter = after.length;
    while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
      endBefore--; endAfter--;
    }
    var a = before.slice(start, endBefore), b = after.slice(start, endAfter);
    if (a.length * b.length > MAX_DIFF_CELLS) return null;

    var width = b.length + 1;
    var table = new Uint32Array((a.length + 1) * width);
    for (var i = a.length - 1; i >= 0; i--) {
      for (var j = b.length - 1; j >= 0; j--) {
        table[i * width + j] = a[i] === b[j]
          ? table[(i + 1) * width + j + 1] + 1
          : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
      }
    }
    var ops = before.slice(0, start).map(function (token) { return ["=", token]; });
    i = 0; j = 0;
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i] === b[j]) { ops.push(["=", a[i]]); i++; j++; }
      else if (j < b.length && (i === a.length || table[i * width + j + 1] >= table[(i + 1) * width + j])) { ops.push(["+", b[j]]); j++; }
      else { ops.push(["-", a[i]]); i++; }
    }
    return ops.concat(before.slice(endBefore).map(function (token) { return ["=", token]; }));
  }

  function renderDiff(target, summary, original, rewrite) {
    var ops = diffTokens(tokenize(original), tokenize(rewrite));
    target.textContent = "";
    if (ops === null) {
      summary.textContent = "The texts are too long for a live diff.";
      return;
    }
    var added = 0, removed = 0;
    ops.forEach(function (op) {
      if (op[0] === "=") { target.appendChild(document.createTextNode(op[1])); return; }
      var node = document.createElement(op[0] === "+" ? "ins" : "del");
      node.textContent = op[1];
      target.appendChild(node);
      if (/[\p{L}\p{N}_]/u.test(op[1])) { if (op[0] === "+") added++; else removed++; }
    });
    summary.textContent = added || removed
      ? added + " word" + (added === 1 ? "" : "s") + " added, " + removed + " removed"
      : "No change from the original reply.";
  }

  function setUpRewriteDiff(form) {
    var editor = form.querySelector("textarea[name=corrected_response]");
    var target = document.getElementById("rewrite-diff");
    var summary = document.getElementById("rewrite-diff-summary");
    var original = document.getElementById("original-response");
    if (!editor || !target || !summary || !original) return;
    var originalText = JSON.parse(original.textContent);
    var pending = null;
    function update() {
      pending = null;
      renderDiff(target, summary, originalText, editor.value.replace(/\r\n?/g, "\n"));
    }
    editor.addEventListener("input", function () {
      if (pending === null) pending = window.setTimeout(update, 120);
    });
    update();
    // Diff against another reply from now on, and prefill it while the reviewer has not edited the rewrite.
    return function setOriginal(text) {
      if (editor.value.replace(/\r\n?/g, "\n") === originalText) editor.value = text;
      originalText = text;
      update();
    };
  }

  // On turn-choice and pairwise items, the picked turn or candidate is the reply
  // under review: highlight it, dim the later turns, and rewrite against it.
  function setUpReplyChoice(setOriginal) {
    var data = document.getElementById("reply-choices");
    if (!data) return;
    var texts = JSON.parse(data.textContent);
    function pick(input) {
      var value = input.value;
      document.querySelectorAll("[data-turn]").forEach(function (row) {
        var index = parseInt(row.getAttribute("data-turn"), 10);
        row.classList.toggle("turn-chosen", String(index) === value);
        row.classList.toggle("turn-after-chosen", index > parseInt(value, 10));
      });
      document.querySelectorAll("[data-candidate]").forEach(function (candidate) {
        candidate.classList.toggle("candidate-chosen", candidate.getAttribute("data-candidate") === value);
      });
      if (setOriginal && Object.prototype.hasOwnProperty.call(texts, value)) setOriginal(texts[value]);
    }
    document.addEventListener("change", function (event) {
      if (event.target.name === "turn_index" || event.target.name === "preferred") pick(event.target);
    });
    var checked = document.querySelector("input[name=turn_index]:checked, input[name=preferred]:checked");
    if (checked) pick(checked);
  }

  function setUpVerdictFields(form) {
    var sections = form.querySelectorAll("[data-verdicts]");
    function show(verdict, moveFocus) {
      sections.forEach(function (section) {
        var shown = !verdict || section.getAttribute("data-verdicts").split(" ").indexOf(verdict) >= 0;
        section.classList.toggle("is-hidden", !shown);
        if (shown && moveFocus && verdict) {
          var field = section.querySelector("textarea");
          if (field) field.focus();
        }
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "verdict") show(event.target.value, event.detail !== "no-focus");
    });
    var checked = form.querySelector("input[name=verdict]:checked");
    show(checked ? checked.value : "", false);
  }

  function isTyping(element) {
    var tag = element && element.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && !/^(radio|checkbox|submit|button)$/.test(element.type));
  }

  function runShortcut(element) {
    // A shortcut marker may point at the control it drives, such as a verdict radio.
    if (element.hasAttribute("data-for")) element = document.getElementById(element.getAttribute("data-for"));
    if (!element) return;
    if (element.tagName === "INPUT" && element.type === "radio") {
      element.checked = true;
      element.dispatchEvent(new Event("change", { bubbles: true }));
    } else if (element.tagName === "FORM") {
      element.requestSubmit();
    } else {
      element.click();
    }
  }

  function setUpShortcuts(reviewForm) {
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
        event.preventDefault();
        reviewForm.requestSubmit();
        return;
      }
      if (isTyping(event.target)) {
        if (event.key === "Escape") event.target.blur();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      var element = document.querySelector('[data-shortcut="' + key + '"]');
      if (!element) return;
      event.preventDefault();
      runShortcut(element);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var countdown = document.querySelector("[data-expires]");
    if (countdown) startLeaseCountdown(countdown);
    var form = document.getElementById("review-form");
    if (!form) return;
    trackTimeSpent(form);
    setUpVerdictFields(form);
    setUpReplyChoice(setUpRewriteDiff(form));
    setUpShortcuts(form);
  });
})();
