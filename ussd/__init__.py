"""The feature-phone channel: the USSD/SMS state machine and the HTTP gateway
(`ofisi serve`) that Africa's Talking and M-Pesa call back.

Like the console and the CLI, it only calls ``core`` services; it never
imports the console.
"""
