/* The portal's card form: card details go from the browser straight to the payment
   gateway's card endpoint (data-card-url, with its publishable key), as Stripe.js does; only
   the payment method's id comes back to Backhaul, in the hidden method_ref field. The number,
   expiry and CVC inputs have no name, so they are never posted to Backhaul. */
(function () {
  "use strict";

  function wantsNewCard(form) {
    var choice = form.querySelector('input[name="method"]:checked');
    return !choice || choice.value === "new";
  }

  function show(form, message) {
    var box = form.querySelector("#card-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function expiry(text) {
    var m = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(text || "");
    if (!m) { return null; }
    var month = parseInt(m[1], 10), year = parseInt(m[2], 10);
    if (month < 1 || month > 12) { return null; }
    return {month: month, year: year < 100 ? 2000 + year : year};
  }

  function tokenise(form, event) {
    if (form.dataset.tokenised === "1" || !wantsNewCard(form)) { return; }
    event.preventDefault();
    var number = form.querySelector("#card-number").value.replace(/[\s-]/g, "");
    var exp = expiry(form.querySelector("#card-exp").value);
    var cvc = form.querySelector("#card-cvc").value.trim();
    if (!/^\d{12,19}$/.test(number)) { show(form, "Enter the card number (12 to 19 digits)."); return; }
    if (!exp) { show(form, "Enter the expiry date as MM/YY."); return; }
    if (!/^\d{3,4}$/.test(cvc)) { show(form, "Enter the 3 or 4 digit security code."); return; }
    show(form, "");
    var button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    var body = new URLSearchParams();
    body.set("type", "card");
    body.set("card[number]", number);
    body.set("card[exp_month]", String(exp.month));
    body.set("card[exp_year]", String(exp.year));
    body.set("card[cvc]", cvc);
    fetch(form.dataset.cardUrl, {
      method: "POST", body: body, credentials: "omit",
      headers: {"Authorization": "Bearer " + form.dataset.cardKey,
                "Content-Type": "application/x-www-form-urlencoded"}
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (answer) {
      if (!answer.ok || !answer.data.id) {
        var error = answer.data && answer.data.error;
        show(form, (error && error.message) || "The card was not accepted. Check it and try again.");
        button.disabled = false;
        return;
      }
      form.querySelector('input[name="method_ref"]').value = answer.data.id;
      form.dataset.tokenised = "1";
      form.submit();
    }).catch(function () {
      show(form, "The payment provider could not be reached. Try again in a moment.");
      button.disabled = false;
    });
  }

  document.querySelectorAll("form[data-card-url]").forEach(function (form) {
    form.addEventListener("submit", function (event) { tokenise(form, event); });
  });
}());
