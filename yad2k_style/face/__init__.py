"""Face recognition: the course's Inception embedding (OpenFace nn4.small2), its weights, triplet
losses, verification and recognition over a database, threshold calibration, and the DeepFace-style
pair classifier. See docs/face.md."""
