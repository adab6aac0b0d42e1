// Small browser helpers used through JS interop.
window.enrichmentPortal = {
  // Saves text as a file download (CSV exports).
  download: function (fileName, mimeType, text) {
    const blob = new Blob([text], { type: mimeType });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url; a.download = fileName; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  },
  copy: function (text) { return navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.resolve(); },
  getTheme: function () { return localStorage.getItem("ep-theme"); },
  setTheme: function (v) { localStorage.setItem("ep-theme", v); },
  timeZone: function () { return Intl.DateTimeFormat().resolvedOptions().timeZone; },
  offsetMinutes: function () { return -new Date().getTimezoneOffset(); }
};
