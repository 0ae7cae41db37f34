/*
 * The DOM helpers every view uses (console and report). Plain browser JavaScript, no build step.
 * Every string that comes from data (keys, names, errors) enters the page as a text node or an
 * attribute value set through the DOM, never as markup; links and image sources are checked
 * before use; no attribute can be an event handler or a style. `morph` updates a page in place
 * (morphdom, served from node_modules): nodes that did not change stay, so a live update keeps
 * the reader's text selection, focus, scroll and folded sections.
 */
'use strict';
(function (F) {
  const SVG_NS = 'http://www.w3.org/2000/svg';

  /** Image sources the views may use: this console's API, or inlined JPEG/PNG/SVG (the report). */
  const safeSrc = (v) =>
    typeof v === 'string' &&
    (/^\/api\/[a-z/]+\?[\w=&%.:-]*$/.test(v) ||
      /^\/static\/[\w.-]+$/.test(v) ||
      /^data:image\/(jpeg|png);base64,[A-Za-z0-9+/=]+$/.test(v));
  /** Links: this page's routes only. */
  const safeHref = (v) => typeof v === 'string' && /^#\//.test(v);

  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (/^on/i.test(k) || k === 'style') throw new Error(`attribute ${k} is not allowed`);
      if (k === 'href' && !safeHref(v)) continue;
      if (k === 'src' && !safeSrc(v)) continue;
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** An HTML element: attributes set through the DOM; children are nodes or text. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    return append(el, children);
  }

  /** An SVG element. */
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    return append(el, children);
  }

  const keyOf = (node) =>
    node.nodeType === 1 ? node.getAttribute('data-key') || node.id || undefined : undefined;

  /**
   * Makes `container`'s children those given, changing only what differs: unchanged nodes stay
   * (selection, focus, scroll, images), keyed nodes (`data-key`, unique in the page) are matched
   * by key, and a <details> the reader opened or closed keeps its state.
   */
  function morph(container, ...children) {
    const next = container.cloneNode(false);
    append(next, children);
    window.morphdom(container, next, {
      childrenOnly: true,
      getNodeKey: keyOf,
      onBeforeElUpdated(from, to) {
        if (from.tagName === 'DETAILS' && from.hasAttribute('data-key')) to.open = from.open;
        if (from.tagName === 'INPUT' && from === document.activeElement) to.value = from.value;
        return !from.isEqualNode(to);
      },
    });
  }

  /** Copies text: the clipboard API where the page may use it, else a selection and copy. */
  async function copyText(text) {
    try {
      await window.navigator.clipboard.writeText(text);
      return true;
    } catch {
      const area = h('textarea', { class: 'copy-buffer', readonly: true });
      area.value = text;
      document.body.append(area);
      area.select();
      let ok;
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      area.remove();
      return ok;
    }
  }

  /**
   * The page's listeners, once for a container: a click (or Enter / Space on a focusable element)
   * on an element with `data-action` calls handlers[action](arg, element); an `input` or `change`
   * of an element with `data-input` calls handlers[input](value, element). Views add no listener
   * of their own, so a re-render never leaves a stale one behind.
   */
  function bindActions(container, handlers) {
    const act = (ev) => {
      const el = ev.target.closest && ev.target.closest('[data-action]');
      if (!el || !container.contains(el)) return;
      const fn = handlers[el.getAttribute('data-action')];
      if (!fn) return;
      if (el.tagName === 'A') ev.preventDefault();
      fn(el.getAttribute('data-arg'), el);
    };
    container.addEventListener('click', act);
    container.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' && ev.key !== ' ') return;
      const el = ev.target;
      if (!el.hasAttribute || !el.hasAttribute('data-action') || el.tagName === 'BUTTON') return;
      ev.preventDefault();
      act(ev);
    });
    const input = (ev) => {
      const el = ev.target;
      const name = el.getAttribute && el.getAttribute('data-input');
      if (name && handlers[`input:${name}`]) handlers[`input:${name}`](el.value, el);
    };
    container.addEventListener('input', input);
    container.addEventListener('change', (ev) => {
      if (ev.target.tagName === 'SELECT') input(ev);
    });
  }

  Object.assign(F, { h, bindActions, s, morph, copyText, safeSrc });
})((window.Facerec = window.Facerec || {}));
