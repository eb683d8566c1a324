// "Place order" once: a second click while the first is on its way would find the bag already emptied.
document.addEventListener("submit", (event) => {
  const form = event.target.closest(".checkout");
  if (!form) return;
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "true";
  form.querySelectorAll('button[type="submit"]').forEach((button) => button.setAttribute("aria-disabled", "true"));
});
