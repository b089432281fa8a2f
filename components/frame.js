// Keeping the keyboard focus where it was. NiceGUI re-creates what a slot template draws whenever the page renders
// (a live update, a sort, a dialog added beside it): a focused control there is replaced by an identical one and the
// focus falls to <body>, which sends keyboard users back to the top of the page (the tables' cells are DataTable's own
// and stay; slot templates remain elsewhere, such as the upload's header). And a dialog gives the focus back to its
// opener only when the browser closes it: one the server closes (after Save) is removed from the page at once, and
// the focus falls to <body>. This remembers the last focused control outside dialogs and menus, and while a dialog is
// open keeps the one that opened it (Quasar's focus trap pulls the focus back when Tab wraps past the dialog's ends,
// but the page's first or last control was focused for a moment: that is not where the dialog came from). When the
// focus has fallen to <body> because that control was replaced, or because a dialog has just closed, it focuses the
// control again, or its replacement (same id, accessible name or text). Quasar's own refocus (no-refocus unset) does
// the same when the browser closes the dialog, so the two agree.
(() => {
  let last = null;
  let dialogOpen = false;
  const inDialog = () => document.querySelector(".q-dialog") !== null;
  document.addEventListener("focusin", (event) => {
    const element = event.target;
    if (element instanceof Element && !element.closest(".q-dialog, .q-menu") && !inDialog()) {
      last = { element, id: element.id, label: element.getAttribute("aria-label"),
               tag: element.tagName, text: (element.textContent || "").trim() };
    }
  });
  // A select's list (role="listbox") may hold only options: Quasar's virtual-scroll wrapper inside it takes
  // tabindex="-1", which makes it a focusable non-option child (axe: aria-required-children, critical). The focus
  // stays on the select's field while the list is open (aria-activedescendant), so the wrapper never needs it.
  const unfocusableListboxContent = () => document
    .querySelectorAll("[role=listbox] .q-virtual-scroll__content[tabindex]")
    .forEach((content) => content.removeAttribute("tabindex"));
  const same = (element) => element.offsetParent !== null && (last.label
    ? element.getAttribute("aria-label") === last.label
    : element.tagName === last.tag && (element.textContent || "").trim() === last.text);
  const replacement = () => (last.id && document.getElementById(last.id))
    || [...document.querySelectorAll(last.label ? "[aria-label]" : last.tag)].find(same);
  new MutationObserver(() => {
    unfocusableListboxContent();
    const open = inDialog();
    const closed = dialogOpen && !open;
    dialogOpen = open;
    if (open || !last || document.activeElement !== document.body) return;
    if (last.element.isConnected) {
      if (closed) last.element.focus();
    } else {
      replacement()?.focus();
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
