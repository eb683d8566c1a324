// A product page's shelves (similar items and recommendations) come after the page: from the page's own URL, asked
// with the X-Shelves header (shop/views.py), in place of the slot. If they cannot be had, the slot keeps its link to
// the page with the shelves in it, which is also what a browser without JavaScript offers.
(() => {
  const slot = document.querySelector("[data-shelves]");
  if (!slot) return;
  fetch(slot.dataset.shelves, { headers: { "X-Shelves": "1" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.text() : Promise.reject(new Error(`HTTP ${response.status}`))))
    .then((html) => {
      slot.outerHTML = html;
      const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) target.scrollIntoView();
    })
    .catch(() => {});
})();
