// Show the address fields only for delivery; the page works without this script.
(function () {
  var box = document.getElementById("address");
  if (!box) return;
  function sync() {
    var picked = document.querySelector('input[name="fulfilment"]:checked');
    var pickup = !!picked && picked.value === "pickup";
    box.hidden = pickup;
    var store = document.getElementById("pickup-box");
    if (store) store.hidden = !pickup;
  }
  document.querySelectorAll('input[name="fulfilment"]').forEach(function (r) { r.addEventListener("change", sync); });
  sync();
})();
