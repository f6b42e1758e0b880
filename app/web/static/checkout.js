// Show the address fields only for delivery; the page works without this script.
(function () {
  var box = document.getElementById("address");
  if (!box) return;
  function sync() {
    var picked = document.querySelector('input[name="fulfilment"]:checked');
    box.hidden = !!picked && picked.value === "pickup";
  }
  document.querySelectorAll('input[name="fulfilment"]').forEach(function (r) { r.addEventListener("change", sync); });
  sync();
})();
