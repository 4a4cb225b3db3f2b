import sys

from neon_sync.launch import main

sys.exit(main())
