"""What tests, benchmarks and scripts share to run the app and drive it: `harness.server` (start the app on a free
port, wait for its health, its process tree and memory), `harness.browser` (the system Chromium, Streamlit's own
signals to wait on, uploads hop by hop, the pages and the explorer) and `harness.stclient` (Streamlit's websocket
protocol as a browser speaks it, for the classroom benchmarks and the proxy test). Imported one way:
`from harness import server, browser, stclient`."""
