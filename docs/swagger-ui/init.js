// Starts Swagger UI on the /docs page. A file of its own, not an inline
// script: the page's Content-Security-Policy allows only the daemon's own
// scripts (script-src 'self').
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    validatorUrl: null,
    persistAuthorization: false
  });
};
