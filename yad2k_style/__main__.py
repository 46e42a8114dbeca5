import sys

from yad2k_style.cli import main

sys.exit(main())
