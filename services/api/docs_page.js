// The documentation page's only script of its own, served beside it rather than inline, so that
// the page's Content-Security-Policy can refuse every inline script.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Swagger UI would otherwise send the whole document to a validator elsewhere.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  });
});
