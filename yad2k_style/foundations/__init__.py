"""The foundations of the notes as working code: classification with localisation, landmark detection,
sliding windows (naive and convolutional), the YOLO grid example, receptive-field arithmetic and
seeing what units learn. See docs/foundations.md."""
