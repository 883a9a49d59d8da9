/* The RP2040's second-stage bootloader, written for ompqc. The boot ROM copies the first 256 bytes of flash to SRAM,
   checks their CRC-32 and calls this code, which sets the flash interface (SSI) up for execute-in-place with the
   plain serial read command 03h, the one every SPI flash answers, then starts the image: the vector table right
   after these 256 bytes becomes VTOR, and its stack pointer and reset handler are loaded. */
    .syntax unified
    .cpu cortex-m0plus
    .thumb
    .section .text

    .global ompqc_boot2
    .type ompqc_boot2, %function
ompqc_boot2:
    push {lr}                 /* 0 when called by the boot ROM */
    ldr r3, =0x18000000       /* XIP_SSI */
    movs r1, #0
    str r1, [r3, #0x08]       /* SSIENR: off while configured */
    movs r1, #4
    str r1, [r3, #0x14]       /* BAUDR: the system clock / 4 */
    ldr r1, =0x001F0300       /* CTRLR0: 32-bit frames, EEPROM read mode, standard SPI */
    str r1, [r3, #0x00]
    movs r1, #0
    str r1, [r3, #0x04]       /* CTRLR1: one frame per read */
    ldr r0, =0x180000F4       /* SPI_CTRLR0 */
    ldr r1, =0x03000218       /* command 03h, 8-bit instruction, 24-bit address, command and address in standard SPI */
    str r1, [r0]
    movs r1, #1
    str r1, [r3, #0x08]       /* SSIENR: on */
    pop {r0}
    cmp r0, #0
    beq 1f
    bx r0                     /* called by a program: return to it */
1:
    ldr r0, =0x10000100       /* the vector table, after these 256 bytes */
    ldr r1, =0xE000ED08       /* VTOR */
    str r0, [r1]
    ldmia r0!, {r1, r2}
    msr msp, r1
    bx r2
    .ltorg
