;;; sagemaker-vpc-lsp.el --- eglot set-up for sagemaker-vpc-lsp  -*- lexical-binding: t; -*-

;; Registers sagemaker-vpc-lsp with eglot for Terraform buffers.  Load it
;; (or copy the forms) after installing terraform-mode:
;;
;;   (load "/path/to/editors/emacs/sagemaker-vpc-lsp.el")
;;   (add-hook 'terraform-mode-hook #'eglot-ensure)
;;
;; eglot runs one server per major mode: this replaces terraform-ls in
;; Terraform buffers if you used it through eglot.

;;; Code:

(require 'eglot)

(defgroup sagemaker-vpc-lsp nil
  "SageMaker models should be in a VPC, checked as you type."
  :group 'tools)

(defcustom sagemaker-vpc-lsp-command "sagemaker-vpc-lsp"
  "The sagemaker-vpc-lsp server binary."
  :type 'string)

(defcustom sagemaker-vpc-lsp-severity "warning"
  "Severity of findings: error, warning, information or hint."
  :type '(choice (const "error") (const "warning") (const "information") (const "hint")))

(defun sagemaker-vpc-lsp--contact (_interactive)
  "The eglot contact for sagemaker-vpc-lsp."
  (list sagemaker-vpc-lsp-command
        :initializationOptions
        (list :severity sagemaker-vpc-lsp-severity :enable t)))

(add-to-list 'eglot-server-programs
             '((terraform-mode hcl-mode) . sagemaker-vpc-lsp--contact))

(provide 'sagemaker-vpc-lsp)
;;; sagemaker-vpc-lsp.el ends here
