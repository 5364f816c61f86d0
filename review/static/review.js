// Keyboard first: the reviewer never needs the mouse. No inline scripts anywhere
// (the Content-Security-Policy forbids them); everything is wired up here.
(function () {
  'use strict';

  function typing(e) {
    var t = e.target;
    return t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');
  }
  function go(id) {
    var a = document.getElementById(id);
    if (a && a.href) { window.location.href = a.href; return true; }
    return false;
  }

  // Cell boxes over page images: positions come as data attributes (no inline styles).
  function placeBoxes() {
    document.querySelectorAll('[data-box]').forEach(function (el) {
      var v = el.getAttribute('data-box').split(' ').map(Number);
      el.style.left = v[0] + '%'; el.style.top = v[1] + '%';
      el.style.width = v[2] + '%'; el.style.height = v[3] + '%';
    });
  }

  // Zoom the page image; keep the highlighted cell in view.
  function setupZoom() {
    var scroll = document.getElementById('page-scroll');
    if (!scroll) return null;
    var level = 1, label = document.getElementById('zoom-level');
    function apply() {
      scroll.querySelectorAll('.page-box').forEach(function (b) { b.style.width = (level * 100) + '%'; });
      if (label) label.textContent = level === 1 ? 'fit' : Math.round(level * 100) + '%';
      var hl = document.getElementById('hl');
      if (hl) {
        var r = hl.getBoundingClientRect(), s = scroll.getBoundingClientRect();
        scroll.scrollLeft += (r.left + r.width / 2) - (s.left + s.width / 2);
        scroll.scrollTop += (r.top + r.height / 2) - (s.top + s.height / 2);
      }
    }
    function zoom(factor) { level = Math.min(6, Math.max(1, factor === 0 ? 1 : level * factor)); apply(); }
    var zin = document.getElementById('zoom-in'), zout = document.getElementById('zoom-out');
    if (zin) zin.addEventListener('click', function () { zoom(1.5); });
    if (zout) zout.addEventListener('click', function () { zoom(1 / 1.5); });
    var img = document.getElementById('page-image');
    if (img && document.getElementById('hl')) {
      var start = function () { level = 2.25; apply(); };
      if (img.complete) start(); else img.addEventListener('load', start);
    }
    return zoom;
  }

  // The cell crop at a legible size: its pixels at `data-scale` (1 for a 200 dpi scan),
  // shrunk to the column only down to 3/4 of that (wider crops scroll sideways).
  function sizeCrop() {
    var img = document.getElementById('crop'), box = document.getElementById('crop-box');
    if (!img || !box) return;
    function apply() {
      var scale = parseFloat(img.getAttribute('data-scale')) || 1;
      var want = img.naturalWidth * scale, room = box.clientWidth - 16;
      img.style.width = Math.max(Math.min(want, room), want * 0.75) + 'px';
      img.style.height = 'auto';
    }
    if (img.complete && img.naturalWidth) apply(); else img.addEventListener('load', apply);
  }

  function pickCandidates(input) {
    var buttons = Array.prototype.slice.call(document.querySelectorAll('button.candidate'));
    function pick(n) {
      var b = buttons[n - 1];
      if (!b || !input) return false;
      input.value = b.getAttribute('data-value');
      input.focus();
      return true;
    }
    buttons.forEach(function (b, i) { b.addEventListener('click', function () { pick(i + 1); }); });
    return function (e) {
      if (!buttons.length || !/^[1-9]$/.test(e.key)) return false;
      if (typing(e) && !e.altKey) return false;
      return pick(Number(e.key));
    };
  }

  function fieldPage(zoom) {
    var form = document.getElementById('act');
    if (!form) return;
    var input = document.getElementById('value');
    var picker = pickCandidates(input);
    if (input && input.tagName === 'TEXTAREA') {
      // Enter saves as in the one-line box; Shift+Enter starts a new line.
      input.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' && !e.shiftKey) {
          e.preventDefault();
          if (form.requestSubmit) form.requestSubmit(document.getElementById('save')); else form.submit();
        }
      });
    }
    var doubleKey = form.getAttribute('data-double-key') === '1';
    var decideValue = document.getElementById('decide-value');   // a senior on differing entries
    if (decideValue) decideValue.focus();
    else if (input) { input.focus(); input.select(); }
    form.addEventListener('submit', function (e) {
      var submitter = e.submitter;
      if (doubleKey && input && submitter && submitter.value === 'correct' && !input.value.trim()) {
        e.preventDefault();
        input.placeholder = 'type the value first (or Alt+A to key the value as read)';
        input.focus();
      }
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'PageDown' || (e.altKey && e.key === 'ArrowDown')) { if (go('next')) e.preventDefault(); return; }
      if (e.key === 'PageUp' || (e.altKey && e.key === 'ArrowUp')) { if (go('prev')) e.preventDefault(); return; }
      if (e.altKey && (e.key === 'a' || e.key === 'A')) { e.preventDefault(); document.getElementById('accept').click(); return; }
      if (picker(e)) { e.preventDefault(); return; }
      if (e.key === 'Escape' && input) {
        if (!doubleKey) input.value = input.getAttribute('data-original') || '';
        input.blur(); e.preventDefault(); return;
      }
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      switch (e.key) {
        case 'a': document.getElementById('accept').click(); break;
        case 'e': case 'i': if (input) { input.focus(); input.select(); } break;
        case 'n': case 'j': go('next'); break;
        case 'p': case 'k': go('prev'); break;
        case 'f': go('to-form'); break;
        case 'q': go('to-queue'); break;
        case '+': case '=': if (zoom) zoom(1.5); break;
        case '-': if (zoom) zoom(1 / 1.5); break;
        case '0': if (zoom) zoom(0); break;
        default: return;
      }
      e.preventDefault();
    });
  }

  function queuePage() {
    var table = document.getElementById('queue');
    if (!table) return;
    var rows = Array.prototype.slice.call(table.querySelectorAll('tbody tr'));
    var at = 0;
    function select(i) {
      if (!rows.length) return;
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) { r.classList.toggle('selected', j === at); });
      rows[at].scrollIntoView({ block: 'nearest' });
    }
    select(0);
    document.addEventListener('keydown', function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      switch (e.key) {
        case 'j': case 'ArrowDown': select(at + 1); break;
        case 'k': case 'ArrowUp': select(at - 1); break;
        case 'Enter': case 'o': if (rows[at]) window.location.href = rows[at].getAttribute('data-href'); break;
        case ']': go('next-page'); break;
        case '[': go('prev-page'); break;
        default: return;
      }
      e.preventDefault();
    });
  }

  function formPage(zoom) {
    if (!document.getElementById('form-table')) return;
    document.addEventListener('keydown', function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '+' || e.key === '=') { zoom && zoom(1.5); e.preventDefault(); }
      else if (e.key === '-') { zoom && zoom(1 / 1.5); e.preventDefault(); }
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    placeBoxes();
    sizeCrop();
    var zoom = setupZoom();
    fieldPage(zoom);
    queuePage();
    formPage(zoom);
  });
})();
