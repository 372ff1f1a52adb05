"""`python -m app [Streamlit options]`: the explainer's server (see app/serve.py)."""
from app.serve import main

main()
