/* embed: written in the next step */
