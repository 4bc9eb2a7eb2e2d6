from peerreview import create_app

app = create_app()
