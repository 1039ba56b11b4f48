// Starts Swagger UI on the server's OpenAPI document (a file, not an inline script: the
// server's Content-Security-Policy allows scripts from itself only).
window.SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
});
