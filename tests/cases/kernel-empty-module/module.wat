;; nothing at all: every export is missing
(module)
