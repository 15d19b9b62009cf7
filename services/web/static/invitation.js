// The invitation e-mail's link carries its code after "#", which browsers never send to a
// server: this copies it into the form. Without JavaScript, the person types the code instead.
document.addEventListener("DOMContentLoaded", () => {
  const code = new URLSearchParams(window.location.hash.slice(1)).get("code");
  const field = document.getElementById("code");
  if (code && field && !field.value) {
    field.value = code;
    history.replaceState(null, "", window.location.pathname);
  }
});
