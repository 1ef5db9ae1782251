;;; test.el --- batch test of sagemaker-vpc-lsp through eglot  -*- lexical-binding: t; -*-
;; Run by test/run.sh: opens a non-compliant model, waits for eglot's
;; diagnostic, applies the quick fix with eglot-code-actions, saves, checks
;; the saved text and that the diagnostic is gone, then shuts the server
;; down through eglot (which sends `"params": null`) and checks that
;; neither side reported an error and the server exited with code 0.

(require 'eglot)
(require 'flymake)
(require 'cl-lib)
(require 'subr-x)

(defun t--env (name) (or (getenv name) (error "missing %s" name)))
(defun t--say (fmt &rest args) (princ (concat (apply #'format fmt args) "\n")))
(defun t--fail (fmt &rest args)
  (t--say "FAIL: %s" (apply #'format fmt args))
  (kill-emacs 1))

;; Emacs 28 has no terraform-mode: a stub is enough for eglot.
(unless (fboundp 'terraform-mode)
  (define-derived-mode terraform-mode prog-mode "Terraform"))
(add-to-list 'auto-mode-alist '("\\.tf\\'" . terraform-mode))

(load (expand-file-name "sagemaker-vpc-lsp.el" (t--env "PLUGIN_DIR")))
(setq sagemaker-vpc-lsp-command (t--env "SAGEMAKER_VPC_LSP_BIN"))
(setq eglot-sync-connect t)

(defun t--wait (seconds what pred)
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall pred) (t--fail "timed out waiting for %s" what))))

(defun t--diagnostics ()
  (flymake-start)
  (accept-process-output nil 0.05)
  (flymake-diagnostics))

(let ((file (t--env "TF_FILE"))
      (expected (with-temp-buffer
                  (insert-file-contents-literally (t--env "EXPECTED_FILE"))
                  (buffer-string))))
  (find-file file)
  (unless (eq major-mode 'terraform-mode) (t--fail "major mode is %s" major-mode))
  (eglot-ensure)
  ;; eglot-ensure connects from post-command-hook, which batch never runs.
  (run-hooks 'post-command-hook)
  (t--wait 15 "eglot to connect" (lambda () (eglot-current-server)))
  (t--wait 15 "the diagnostic" (lambda () (t--diagnostics)))
  (let* ((diag (car (t--diagnostics)))
         (text (flymake-diagnostic-text diag)))
    (t--say "diagnostic: %s" text)
    (unless (string-match-p "aws_sagemaker_model\\.inference" text)
      (t--fail "unexpected diagnostic text %s" text))
    (unless (eq (flymake-diagnostic-type diag) 'eglot-warning)
      (t--fail "expected a warning, got %s" (flymake-diagnostic-type diag)))
    ;; Several quick fixes: eglot offers a menu whose default is the
    ;; preferred one; the user accepts the default with RET.
    (let ((last-nonmenu-event ?\r)
          (offered nil))
      (cl-letf (((symbol-function 'completing-read)
                 (lambda (_prompt collection &optional _pred _req _init _hist default &rest _)
                   (setq offered (mapcar #'car collection))
                   default)))
        (eglot-code-actions (flymake-diagnostic-beg diag) (flymake-diagnostic-end diag) "quickfix" t))
      (t--say "offered: %s" (string-join offered " | "))
      (unless (equal (car offered) "Add vpc_config block")
        (t--fail "the preferred fix is not offered first: %S" offered))))
  (t--wait 15 "the fix to be applied"
           (lambda () (save-excursion (goto-char (point-min)) (search-forward "vpc_config {" nil t))))
  ;; didChange goes out from an idle timer batch never runs; saving flushes it.
  (save-buffer)
  (t--wait 15 "the diagnostic to go away" (lambda () (null (t--diagnostics))))
  (let ((written (with-temp-buffer (insert-file-contents-literally file) (buffer-string))))
    (unless (string= written expected)
      (t--fail "written text differs:\n%s\n--- expected ---\n%s" written expected)))
  ;; A clean shutdown through eglot's connection: the messages
  ;; `eglot-shutdown' sends (`shutdown' with `"params": null', then `exit'),
  ;; after which the server must exit by itself with code 0. (eglot 1.9's
  ;; `eglot-shutdown' then calls `jsonrpc-shutdown', which deletes the
  ;; process at once — SIGKILL, status 9 — before any server could exit, so
  ;; the exit code is observed here, on the same connection, first.)
  (let* ((server (eglot-current-server))
         (proc (jsonrpc--process server)))
    (setf (eglot--shutdown-requested server) t)
    (condition-case err
        (let ((result (jsonrpc-request server :shutdown nil :timeout 10)))
          (t--say "shutdown answered: %S" result))
      (error (t--fail "the shutdown request failed: %S" err)))
    (jsonrpc-notify server :exit nil)
    (t--wait 10 "the server process to exit" (lambda () (not (process-live-p proc))))
    (let ((status (process-exit-status proc)))
      (t--say "server exit status: %s" status)
      (unless (eql status 0)
        (t--fail "the server exited with %s" status))))
  (t--say "PASS: diagnostic shown, quick fix applied, file saved, diagnostic cleared, server shut down cleanly")
  (kill-emacs 0))
