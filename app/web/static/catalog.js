// The product list's "select all" box ticks every row; without scripts each row is ticked by hand.
document.querySelectorAll("[data-select-all]").forEach((all) => {
  all.addEventListener("change", () => {
    all.closest("form").querySelectorAll('input[name="product_id"]').forEach((box) => { box.checked = all.checked; });
  });
});
